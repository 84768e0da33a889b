namespace Cnn.Training.Training;

/// <summary>What a checkpoint records besides tensors: enough to rebuild the model and continue training exactly.</summary>
public sealed record CheckpointInfo
{
    public required string Model { get; init; }
    public required int NumClasses { get; init; }
    public Dictionary<string, string> ModelOptions { get; init; } = [];
    public IReadOnlyList<string> Classes { get; init; } = [];
    /// <summary>Completed epochs.</summary>
    public int Epoch { get; init; }
    /// <summary>Optimizer steps taken (the learning-rate schedule is a function of it).</summary>
    public int Step { get; init; }
    /// <summary>Batches of <see cref="Epoch"/> + 1 already trained when a run was interrupted mid-epoch.</summary>
    public int BatchInEpoch { get; init; }
    public double BestMetric { get; init; } = double.NegativeInfinity;
    public int EpochsWithoutImprovement { get; init; }
    public Dictionary<string, double> Metrics { get; init; } = [];
    public long[] InputShape { get; init; } = [];
    public float[] Mean { get; init; } = [];
    public float[] Std { get; init; } = [];
    /// <summary>Shorter side that evaluation resizes to before the centre crop of the input size, when pretrained
    /// weights' preprocessing drove the transforms (finetune from a published name); null: the size-driven pipeline.</summary>
    public int? EvalResize { get; init; }
    /// <summary>The data trained on and its train/held-out split; null in checkpoints written before it was recorded.</summary>
    public Data.DataSplit? Split { get; init; }
}
