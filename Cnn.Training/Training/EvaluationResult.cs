namespace Cnn.Training.Training;

/// <summary>Loss, top-1 and top-5 accuracy and the confusion matrix (rows: true class, columns: predicted).</summary>
public sealed record EvaluationResult(double Loss, double Top1, double Top5, long[,] Confusion, int Samples);
