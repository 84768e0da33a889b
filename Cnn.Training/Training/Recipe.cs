using Cnn.Zoo;

namespace Cnn.Training.Training;

/// <summary>Sensible defaults per model, used for every option the user does not give.</summary>
/// <param name="ModelOptions">Model options applied unless the user sets them (<c>key=value</c>).</param>
public sealed record Recipe(int Epochs, int BatchSize, OptimizerKind Optimizer, double LearningRate, ScheduleKind Schedule,
                           double WeightDecay, string[] ModelOptions, int? InputSize = null)
{
    /// <summary>
    /// LeNet-5: max pooling, ReLU, Adam and a one-cycle schedule; calibrated with PyTorch on the shipped 8k/2k MNIST
    /// split at 98.2% after 15 epochs (the classic tanh/average pooling reaches about 97% in 10).
    /// Other models: SGD with momentum and cosine decay, the usual ImageNet-style recipe scaled to small data.
    /// </summary>
    public static Recipe For(string model) => ModelRegistry.Get(model).Name switch   // the registry's spelling: names are case-insensitive
    {
        "lenet5" => new(15, 64, OptimizerKind.Adam, 3e-3, ScheduleKind.OneCycle, 0, ["activation=relu", "pooling=max"]),
        "alexnet_original" => new(10, 32, OptimizerKind.Sgd, 0.01, ScheduleKind.Cosine, 5e-4, []),
        _ when model.StartsWith("mobilenet", StringComparison.Ordinal) =>
            new(10, 32, OptimizerKind.AdamW, 2e-3, ScheduleKind.OneCycle, 1e-4, []),
        _ => new(10, 32, OptimizerKind.Sgd, 0.05, ScheduleKind.Cosine, 5e-4, []),
    };
}
