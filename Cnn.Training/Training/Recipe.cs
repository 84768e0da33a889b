using Cnn.Zoo;

namespace Cnn.Training.Training;

/// <summary>Sensible defaults per model, used for every option the user does not give.</summary>
/// <param name="ModelOptions">Model options applied unless the user sets them (<c>key=value</c>): the registry entry's
/// <see cref="ModelEntry.TrainingOptions"/>.</param>
public sealed record Recipe(int Epochs, int BatchSize, OptimizerKind Optimizer, double LearningRate, ScheduleKind Schedule,
                           double WeightDecay, string[] ModelOptions, int? InputSize = null)
{
    /// <summary>
    /// LeNet-5: max pooling, ReLU, Adam and a one-cycle schedule; calibrated with PyTorch on the shipped 8k/2k MNIST
    /// split at 98.2% after 15 epochs (the classic tanh/average pooling reaches about 97% in 10).
    /// Other models: SGD with momentum and cosine decay, the usual ImageNet-style recipe scaled to small data.
    /// </summary>
    public static Recipe For(string model)
    {
        var entry = ModelRegistry.Get(model);   // the registry's spelling: names are case-insensitive
        string[] options = [.. entry.TrainingOptions ?? []];
        return entry.Name switch
        {
            "lenet5" => new(15, 64, OptimizerKind.Adam, 3e-3, ScheduleKind.OneCycle, 0, options),
            "alexnet_original" => new(10, 32, OptimizerKind.Sgd, 0.01, ScheduleKind.Cosine, 5e-4, options),
            _ when entry.Name.StartsWith("mobilenet", StringComparison.Ordinal) =>
                new(10, 32, OptimizerKind.AdamW, 2e-3, ScheduleKind.OneCycle, 1e-4, options),
            _ => new(10, 32, OptimizerKind.Sgd, 0.05, ScheduleKind.Cosine, 5e-4, options),
        };
    }
}
