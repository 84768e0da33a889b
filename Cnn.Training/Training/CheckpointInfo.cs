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
    /// <summary>Shorter side that evaluation resizes to before the centre crop of the input size (pretrained weights'
    /// preprocessing, or <see cref="Data.DataSetup.EvalResize"/> in train); null: no resize (images of the input
    /// size, or padded to it).</summary>
    public int? EvalResize { get; init; }

    /// <summary>What an exported model's user must do to an image: the evaluation resize, the crop and the normalisation.</summary>
    public Cnn.Zoo.Preprocessing EvalPreprocessing()
    {
        int size = (int)InputShape[^1];
        return new Cnn.Zoo.Preprocessing(EvalResize ?? size, size, [.. Mean.Select(m => (double)m)], [.. Std.Select(s => (double)s)]);
    }
    /// <summary>The data trained on and its train/held-out split; null in checkpoints written before it was recorded.</summary>
    public Data.DataSplit? Split { get; init; }
}
