namespace Cnn.Training.Training;

/// <summary>What <see cref="Trainer.Fit"/> ended with: why it stopped, after how many epochs, the last held-out
/// evaluation and the best value of the monitored metric.</summary>
public sealed record TrainResult(StopReason Reason, int EpochsCompleted, EvaluationResult? LastValidation, double BestMetric);
