using System.CommandLine;
using Cnn.Onnx.Import;
using Cnn.Training.Reporting;
using Cnn.Training.Training;
using Cnn.Transfer.Catalog;
using static TorchSharp.torch;

namespace Cnn.Training.Cli;

/// <summary>
/// Where a verb that runs a trained model gets it from: <c>--checkpoint FILE</c> (train or finetune), or
/// <c>--model NAME --weights NAME|FILE</c> (published weights by name, or a PyTorch file). One set of options and one
/// check for eval, predict, explain and export.
/// </summary>
public sealed class ModelSourceOptions
{
    public Option<string?> Checkpoint { get; } = CliOptions.OptionalText("--checkpoint", "a .ckpt written by train or finetune", "file");
    public Option<string?> Model { get; } = CliOptions.OptionalText("--model", "zoo model of --weights (see 'models'); not needed for a weights file written by this tool (its .json beside it says)", "name");
    public Option<string?> Weights { get; } = CliOptions.OptionalText("--weights",
        "pretrained weights instead of a checkpoint: a name of the model's published weights (IMAGENET1K_V2, DEFAULT; see 'models --weights'; downloaded once into torch.hub's cache) or a .pt/.pth/.safetensors file",
        "name|file");

    public IEnumerable<Option> All => [Checkpoint, Model, Weights];

    /// <summary>The checkpoint, or the model and weights, the user gave; a usage error for anything else.</summary>
    public (string? Checkpoint, string? Model, string? Weights) Read(ParseResult parse, string verb)
    {
        string? checkpoint = parse.GetValue(Checkpoint), model = parse.GetValue(Model), weights = parse.GetValue(Weights);
        if (checkpoint is not null && (weights is not null || model is not null))
            throw new UsageException($"{verb} takes --checkpoint FILE or --model NAME --weights NAME|FILE, not both");
        if (checkpoint is null && weights is null)
            throw new UsageException($"{verb} needs --checkpoint FILE, or --model NAME --weights NAME|FILE (e.g. --model resnet50 --weights DEFAULT)");
        if (weights is not null && model is null && !File.Exists(weights))
            throw new UsageException("--weights: name the zoo model they belong to with --model (see 'models --weights')");
        return (checkpoint, model, weights);
    }

    /// <summary>The model <see cref="Read"/> found named, ready on <paramref name="device"/>: <see cref="ReadyModel"/>
    /// from the checkpoint, or from <see cref="LoadWeights"/>.</summary>
    public static ReadyModel Load((string? Checkpoint, string? Model, string? Weights) named, Device device)
        => named.Checkpoint is not null ? ReadyModel.FromCheckpoint(named.Checkpoint, device)
            : ReadyModel.FromWeights(LoadWeights(named.Model, named.Weights!, numClasses: null), device);

    /// <summary>The command line's catalog (torchvision's published weights and the built-in backbone,
    /// <see cref="PretrainedBackbones.Catalog"/>): <see cref="WeightsCatalog.Load"/> with a download bar.</summary>
    public static PretrainedModel LoadWeights(string? model, string weights, int? numClasses)
        => PretrainedBackbones.Catalog.Load(model, weights, numClasses, log: Console.Error.WriteLine, progress: new DownloadBar().Report);
}
