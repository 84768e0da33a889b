namespace Cnn.Training.Training;

/// <summary>Loss, top-1 and top-5 accuracy and the confusion matrix (rows: true class, columns: predicted).</summary>
public sealed record EvaluationResult(double Loss, double Top1, double Top5, long[,] Confusion, int Samples);

/// <summary>Why <see cref="Trainer.Fit"/> returned.</summary>
public enum StopReason { Completed, EarlyStopping, Interrupted }

public sealed record TrainResult(StopReason Reason, int EpochsCompleted, EvaluationResult? LastValidation, double BestMetric);

/// <summary>Raised when the loss becomes NaN or infinite; the last good checkpoint is kept.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
