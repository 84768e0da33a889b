using Cnn.Zoo;
using System.Globalization;

namespace Cnn.Training.Reporting;

/// <summary>How <see cref="Explainer"/> prepares images and what it explains.</summary>
/// <param name="Preprocessing">The model's preprocessing (a checkpoint's or the weights'), also used to show each image
/// as the model saw it.</param>
/// <param name="Classes">Class names by index; shorter than the class count (or empty) where the weights carry none.</param>
public sealed record ExplainSettings(Preprocessing Preprocessing, IReadOnlyList<string> Classes)
{
    /// <summary>The class to explain; null: each image's top-1.</summary>
    public int? TargetClass { get; init; }

    /// <summary>Target layer (module name); null: the output of the convolutional body.</summary>
    public string? Layer { get; init; }

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
