namespace Cnn.Training.Training;

/// <summary>Raised when the loss becomes NaN or infinite; the last good checkpoint is kept.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
