namespace Cnn.Training.Training;

/// <summary>
/// The transfer-learning recipe of <c>cnnzoo finetune</c>, in one place: its options default to these values, and
/// <c>cnnzoo handoff</c> records them as the defaults of the PyTorch script it writes. Adam throughout: stage 1 trains
/// the head (or what <see cref="Freeze"/> leaves) for <see cref="Epochs"/>; stage 2 unfreezes everything for
/// <see cref="UnfreezeEpochs"/> at discriminative rates (Cnn.Transfer's <c>ParameterGroups.Discriminative</c> with
/// <see cref="Groups"/> groups, each <see cref="DecayPerGroup"/> times the next).
/// </summary>
public sealed record FinetuneRecipe
{
    /// <summary>The values <c>cnnzoo finetune</c> uses when its options are not given.</summary>
    public static FinetuneRecipe Default { get; } = new();

    /// <summary>Share of each class of an image folder held out for validation.</summary>
    public double HeldOut { get; init; } = 0.2;

    /// <summary><c>all-but-head</c>, <c>none</c>, or a number of weight layers.</summary>
    public string Freeze { get; init; } = "all-but-head";

    public int Epochs { get; init; } = 8;
    public int UnfreezeEpochs { get; init; } = 4;

    /// <summary>Adam's rate in stage 1.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>The head's rate in stage 2; earlier groups get <see cref="DecayPerGroup"/> times the next group's.</summary>
    public double UnfrozenLearningRate { get; init; } = 1e-4;

    public double DecayPerGroup { get; init; } = 0.5;
    public int Groups { get; init; } = 3;
    public int BatchSize { get; init; } = 32;
    public int Workers { get; init; } = 2;

    /// <summary>After unfreezing: <c>keep</c> the pretrained batch-norm statistics, or <c>update</c> them.</summary>
    public string NormStatistics { get; init; } = "keep";

    /// <summary>Input side for weights without published preprocessing (a file no catalog entry describes).</summary>
    public int FileInputSize { get; init; } = 112;
}
