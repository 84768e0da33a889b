namespace Cnn.Training.Training;

public enum OptimizerKind { Sgd, Adam, AdamW }
