using Cnn.Zoo;
using System.Globalization;
using Cnn.Training.Data;
using Cnn.Training.Training;
using Cnn.Zoo.Models;

namespace Cnn.Training.Reporting;

/// <summary>How <see cref="Explainer"/> prepares images and what it explains.</summary>
/// <param name="Mean">Per-channel mean of the weights' normalisation (to show the image as the model saw it).</param>
/// <param name="Std">Per-channel standard deviation of the weights' normalisation.</param>
/// <param name="Classes">Class names by index; shorter than the class count (or empty) where the weights carry none.</param>
public sealed record ExplainSettings(float[] Mean, float[] Std, IReadOnlyList<string> Classes)
{
    /// <summary>The same preprocessing for every image; null: the training pipeline for <see cref="InputSize"/>, chosen per image as predict does.</summary>
    public ITransform? Transform { get; init; }

    /// <summary>Side of the square input, for the training pipeline (when <see cref="Transform"/> is null).</summary>
    public int InputSize { get; init; }

    /// <summary>The evaluation resize recorded with the weights (<see cref="CheckpointInfo.EvalResize"/>), for the training pipeline.</summary>
    public int? EvalResize { get; init; }

    /// <summary>The class to explain; null: each image's top-1.</summary>
    public int? TargetClass { get; init; }

    /// <summary>Target layer (module name); null: the output of the convolutional body.</summary>
    public string? Layer { get; init; }

    /// <summary>
    /// torchvision's evaluation preprocessing for weights that say nothing about theirs: shorter side to 256 and centre
    /// crop 224 for a model at 224 (the same 0.875 ratio at other sizes), ImageNet's mean and std for RGB.
    /// </summary>
    public static ExplainSettings ImageNetStyle(ZooModel model, IReadOnlyList<string>? classes = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var (mean, std) = DataSetup.Normalisation("", model.Input.Channels);
        int height = model.Input.Height, width = model.Input.Width;
        return new ExplainSettings(mean, std, classes ?? [])
        {
            Transform = Transforms.Compose(Transforms.Resize((int)Math.Round(Math.Min(height, width) / 0.875)),
                                           Transforms.CenterCrop(height, width), Transforms.Normalize(mean, std)),
            InputSize = height,
        };
    }

    /// <summary>A checkpoint's own preprocessing: its input size, evaluation resize, mean and std, and class names.</summary>
    public static ExplainSettings ForCheckpoint(CheckpointInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        if (info.InputShape.Length == 0)
            throw new InvalidChoiceException($"the {info.Model} checkpoint records no input shape; expected one written by train or finetune");
        return new ExplainSettings(info.Mean, info.Std, info.Classes) { InputSize = (int)info.InputShape[^1], EvalResize = info.EvalResize };
    }

    /// <summary>
    /// A class given as one of <paramref name="classes"/>' names (exact, then ignoring case) or as an index, checked
    /// against <paramref name="numClasses"/>.
    /// </summary>
    public static int ParseClass(string text, IReadOnlyList<string> classes, int numClasses)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(classes);
        int named = IndexOf(classes, text, StringComparison.Ordinal);
        if (named < 0) named = IndexOf(classes, text, StringComparison.OrdinalIgnoreCase);
        if (named >= 0) return named;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int index))
        {
            if (index < numClasses) return index;
            throw new InvalidChoiceException($"class {index} does not exist: the model has {numClasses} classes (0 to {numClasses - 1})");
        }
        string known = classes.Count == 0
            ? "these weights carry no class names, so give an index"
            : $"known names: {string.Join(", ", classes.Take(12))}{(classes.Count > 12 ? ", ..." : "")}";
        throw new InvalidChoiceException($"class '{text}' is neither an index from 0 to {numClasses - 1} nor a class name; {known}");
    }

    static int IndexOf(IReadOnlyList<string> classes, string name, StringComparison comparison)
    {
        for (int i = 0; i < classes.Count; i++)
        {
            if (string.Equals(classes[i], name, comparison)) return i;
        }
        return -1;
    }
}
