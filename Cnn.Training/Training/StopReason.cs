namespace Cnn.Training.Training;

/// <summary>Why <see cref="Trainer.Fit"/> returned.</summary>
public enum StopReason { Completed, EarlyStopping, Interrupted }
