using System.CommandLine;

namespace Cnn.Training.Cli;

/// <summary>
/// The options several verbs share, each declared once here: the same name, help text and limits in every verb (a
/// verb may pick its own default where its job differs, e.g. fine-tuning's data is Fashion-MNIST).
/// </summary>
public static class SharedOptions
{
    /// <summary>The smallest <c>--input-size</c> the command line takes; each model then checks its own minimum
    /// (<see cref="Cnn.Zoo.Models.InputSpec.RequireSide"/>) before any work.</summary>
    public const int MinInputSize = 8;

    /// <summary><c>--data</c>: a shipped set or a folder.</summary>
    public static Option<string> Data(string fallback)
        => CliOptions.Text("--data", fallback, "mnist, fashion-mnist, or a folder (IDX, CIFAR-10 batches, or one sub-folder per class)", "data");

    /// <summary><c>--out</c> of the verbs that make a run folder (train, finetune, bench).</summary>
    public static Option<string> RunsFolder() => CliOptions.Text("--out", "runs", "folder that receives the run folder", "folder");

    /// <summary><c>--input-size</c>, when the default depends on the model or the weights.</summary>
    public static Option<int?> InputSize(string defaultIs)
        => CliOptions.OptionalInt("--input-size", $"square input side (default: {defaultIs}); each model has its own minimum", MinInputSize);

    /// <summary><c>--train-per-class</c> of train, finetune and handoff (<see cref="Data.DataSources.LoadForTraining"/>).</summary>
    public static Option<int> TrainPerClass()
        => CliOptions.Int("--train-per-class", 0, "use only this many training images per class, chosen by --seed (0: all)", 0);

    /// <summary><c>--batch-size</c> with a fixed default.</summary>
    public static Option<int> BatchSize(int fallback) => CliOptions.Int("--batch-size", fallback, "images per batch", 1);

    /// <summary><c>--batch-size</c> whose default depends on the model (its recipe).</summary>
    public static Option<int?> BatchSize(string defaultIs) => CliOptions.OptionalInt("--batch-size", $"images per batch (default: {defaultIs})", 1);

    /// <summary><c>--workers</c>: threads that decode and augment images while the model trains.</summary>
    public static Option<int> Workers(int fallback) => CliOptions.Int("--workers", fallback, "data-loading threads", 1);
}
