using Cnn.Transfer;
using System.Text.Json.Serialization;

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

    /// <summary>How every verb prepares an image for the model: the preprocessing training evaluated with (the
    /// weights' own for fine-tuning, <see cref="Data.DataSetup.ForTraining"/> for training from scratch). Null only in
    /// checkpoints written before it was recorded; read <see cref="EvalPreprocessing"/>.</summary>
    public Cnn.Zoo.Preprocessing? Preprocessing { get; init; }

    /// <summary>Older checkpoints' normalisation means; new ones write <see cref="Preprocessing"/>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public float[]? Mean { get; init; }

    /// <summary>Older checkpoints' normalisation standard deviations; new ones write <see cref="Preprocessing"/>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public float[]? Std { get; init; }

    /// <summary>Older checkpoints' evaluation resize (null: pad or keep images near the input size); new ones write
    /// <see cref="Preprocessing"/>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? EvalResize { get; init; }

    /// <summary>The recorded <see cref="Preprocessing"/>, or for an older checkpoint the same thing rebuilt from what
    /// it recorded then (mean, std, input size, evaluation resize).</summary>
    public Cnn.Zoo.Preprocessing EvalPreprocessing()
    {
        if (Preprocessing is not null) return Preprocessing;
        if (InputShape.Length == 0 || Mean is null || Std is null)
            throw new InvalidDataException($"the {Model} checkpoint records neither its preprocessing nor its input shape and statistics; expected one written by train or finetune");
        int size = (int)InputShape[^1];
        return new Cnn.Zoo.Preprocessing(EvalResize ?? size, size, [.. Mean.Select(m => (double)m)], [.. Std.Select(s => (double)s)])
        {
            PadSmallSquares = EvalResize is null,
        };
    }

    /// <summary>The recipe the weights were trained by (optimizer, rate, schedule, epochs, ...); for a fine-tuned
    /// model, its last stage's. Null in checkpoints written before it was recorded.</summary>
    public TrainConfig? Training { get; init; }

    /// <summary>The data trained on and its train/held-out split; null in checkpoints written before it was recorded.</summary>
    public Cnn.Transfer.DataSplit? Split { get; init; }
}
