using Cnn.Zoo.Inference;

namespace Cnn.Training.Training;

/// <summary>The knobs of one training run.</summary>
public sealed record TrainConfig
{
    public int Epochs { get; init; } = 10;
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;
    public double LearningRate { get; init; } = 1e-3;
    public double WeightDecay { get; init; }
    public double Momentum { get; init; } = 0.9;
    public bool Nesterov { get; init; }
    public ScheduleKind Schedule { get; init; } = ScheduleKind.Constant;
    public int WarmupEpochs { get; init; }
    public int StepEpochs { get; init; } = 30;
    public double Gamma { get; init; } = 0.1;
    public double LabelSmoothing { get; init; }
    /// <summary>Clip the global gradient norm to this value (null: no clipping).</summary>
    public double? ClipGradNorm { get; init; }
    /// <summary>Stop after this many epochs without improvement of the monitored metric (null: never).</summary>
    public int? Patience { get; init; }
    /// <summary><c>val_top1</c> (higher is better) or <c>val_loss</c> (lower is better).</summary>
    public string Monitor { get; init; } = "val_top1";
    public string Device { get; init; } = "cpu";
    /// <summary>Memory layout of each batch; weights, gradients and checkpoints keep the usual layout either way.</summary>
    public MemoryLayout Layout { get; init; } = MemoryLayout.Auto;
}
