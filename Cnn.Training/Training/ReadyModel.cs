using Cnn.Training.Data;
using Cnn.Transfer;
using Cnn.Transfer.Catalog;
using Cnn.Zoo;
using Cnn.Zoo.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Training.Training;

/// <summary>
/// A model ready to run, and the facts using it needs, whichever way it came: a checkpoint written by train or
/// finetune, or a zoo model with weights (a published name, or a file and its <see cref="WeightsSidecar"/>). eval,
/// predict, explain, export and handoff read the model, its preprocessing and its classes from here, so they cannot
/// disagree about them.
/// </summary>
public sealed class ReadyModel : IDisposable
{
    ReadyModel(ZooModel model, Preprocessing preprocessing, IReadOnlyList<string>? classes, string source, string architecture,
               IReadOnlyDictionary<string, string> modelOptions, CheckpointInfo? checkpoint, bool classesFromData, DataSplit? split)
    {
        ClassesFromData = classesFromData;
        Split = split;
        Model = model;
        Preprocessing = preprocessing;
        Classes = classes;
        Source = source;
        Architecture = architecture;
        ModelOptions = modelOptions;
        Checkpoint = checkpoint;
    }

    /// <summary>The model, weights loaded, in eval mode.</summary>
    public ZooModel Model { get; }

    /// <summary>How an image is prepared for it: the checkpoint's recorded preprocessing, or the weights'.</summary>
    public Preprocessing Preprocessing { get; }

    /// <summary>Class names in output order; null where the weights carry none.</summary>
    public IReadOnlyList<string>? Classes { get; }

    /// <summary>True when <see cref="Classes"/> are the class folders the model was trained on (a checkpoint, or a
    /// file with a sidecar), so data to evaluate must have the same names in the same order; false for published
    /// category names (ImageNet's "tench" for the folder n01440764), where only the count can be checked.</summary>
    public bool ClassesFromData { get; }

    /// <summary>Where it came from, for messages: the checkpoint's model, or the weights entry or file.</summary>
    public string Source { get; }

    /// <summary>The registry model it was built as, with <see cref="ModelOptions"/>.</summary>
    public string Architecture { get; }

    /// <summary>The registry options it was built with.</summary>
    public IReadOnlyDictionary<string, string> ModelOptions { get; }

    /// <summary>What the checkpoint records; null for weights.</summary>
    public CheckpointInfo? Checkpoint { get; }

    /// <summary>The data the model trained on and its held-out part (the checkpoint's, or a weights file's sidecar);
    /// null when unknown.</summary>
    public DataSplit? Split { get; }

    /// <summary>Rebuilds the model a checkpoint was trained as, loads its weights, and puts it in eval mode on <paramref name="device"/>.</summary>
    public static ReadyModel FromCheckpoint(string path, Device device)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"checkpoint {path} not found (expected a .ckpt written by train or finetune)", path);
        var info = Training.Checkpoint.ReadInfo(path);
        var preprocessing = info.EvalPreprocessing();
        var model = ModelRegistry.Create(info.Model, info.NumClasses, new ModelOptions(info.ModelOptions));
        Training.Checkpoint.Load(path, model);
        model.to(device);
        model.eval();
        return new ReadyModel(model, preprocessing, info.Classes.Count == info.NumClasses ? info.Classes : null, $"{info.Model} ({path})",
                              info.Model, info.ModelOptions, info, classesFromData: true, info.Split);
    }

    /// <summary>Pretrained weights (<see cref="WeightsCatalog.Load"/>), moved to <paramref name="device"/> in eval mode.</summary>
    public static ReadyModel FromWeights(PretrainedModel pretrained, Device device)
    {
        ArgumentNullException.ThrowIfNull(pretrained);
        pretrained.Model.to(device);
        pretrained.Model.eval();
        return new ReadyModel(pretrained.Model, pretrained.Preprocessing, pretrained.Categories,
                              $"{pretrained.Entry} ({pretrained.Location})", pretrained.Entry.Architecture, pretrained.Entry.Options, null,
                              classesFromData: !pretrained.Published && pretrained.Categories is not null, pretrained.Sidecar?.Split);
    }

    /// <summary>The evaluation transform for samples of <paramref name="geometry"/>.</summary>
    public ITransform EvalTransform(SampleGeometry geometry)
        => DataSetup.Pipeline(geometry, Model.Input, Preprocessing, augment: false).Eval;

    public void Dispose() => Model.Dispose();
}
