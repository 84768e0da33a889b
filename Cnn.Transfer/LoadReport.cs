using System.Text;

namespace Cnn.Transfer;

/// <summary>
/// What a weight load did, key by key (after key mapping): which model tensors were copied, which the file lacked,
/// which file tensors the model has no place for, which had the wrong shape, and which were skipped on request.
/// </summary>
public sealed class LoadReport
{
    internal LoadReport(string source, string model, IReadOnlyList<string> loaded, IReadOnlyList<string> missing,
                        IReadOnlyList<string> unexpected,
                        IReadOnlyList<(string Key, long[] Expected, long[] Found)> shapeMismatches,
                        IReadOnlyList<string> skipped, ArchitectureMatch? match = null)
    {
        Match = match;
        Source = source;
        Model = model;
        Loaded = loaded;
        Missing = missing;
        Unexpected = unexpected;
        ShapeMismatches = shapeMismatches;
        Skipped = skipped;
    }

    /// <summary>Where the weights came from: a path, or "state dict".</summary>
    public string Source { get; }

    /// <summary>The model's name.</summary>
    public string Model { get; }

    /// <summary>Model keys whose values were copied from the file (none when a strict load failed).</summary>
    public IReadOnlyList<string> Loaded { get; }

    /// <summary>Model keys the file does not have; those tensors keep their values.</summary>
    public IReadOnlyList<string> Missing { get; }

    /// <summary>File keys the model does not have.</summary>
    public IReadOnlyList<string> Unexpected { get; }

    /// <summary>Keys present on both sides with different shapes: the model's shape, then the file's.</summary>
    public IReadOnlyList<(string Key, long[] Expected, long[] Found)> ShapeMismatches { get; }

    /// <summary>Keys (model or file) left out by a skip prefix; they count neither as missing nor as unexpected.</summary>
    public IReadOnlyList<string> Skipped { get; }

    /// <summary>
    /// When a load failed because the file holds another architecture: the registered model its keys match best
    /// (see <see cref="ArchitectureMatch.Best"/>); null otherwise.
    /// </summary>
    public ArchitectureMatch? Match { get; }

    /// <summary>How many keys of each kind <see cref="ToString"/> names before "... and N more".</summary>
    public const int ListedKeys = 5;

    /// <summary>True when every model key not skipped was matched by a file tensor of the same shape and vice versa.</summary>
    public bool IsExact => Missing.Count == 0 && Unexpected.Count == 0 && ShapeMismatches.Count == 0;

    /// <summary>
    /// The counts, the first <see cref="ListedKeys"/> keys of each kind and "... and N more", and the architecture the
    /// file holds when that is why nothing fits: a report of a 434-key mismatch still fits on one screen.
    /// </summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        int total = Loaded.Count + Missing.Count + ShapeMismatches.Count;
        string verdict = IsExact ? "exact match" : "not an exact match";
        sb.Append($"weights from {Source} into {Model}: {Loaded.Count} of {total} tensors loaded, {verdict}");
        static string Shape(long[] s) => "[" + string.Join(", ", s) + "]";
        void Section(string title, IReadOnlyList<string> items)
        {
            if (items.Count == 0) return;
            sb.AppendLine();
            sb.Append($"  {title} ({items.Count}): {string.Join(", ", items.Take(ListedKeys))}");
            if (items.Count > ListedKeys) sb.Append($", ... and {items.Count - ListedKeys} more");
        }
        Section("missing from the file", Missing);
        Section("unexpected in the file", Unexpected);
        Section("wrong shape (model vs file)",
                ShapeMismatches.Select(m => $"{m.Key} {Shape(m.Expected)} vs {Shape(m.Found)}").ToList());
        Section("skipped", Skipped);
        if (Match is not null)
        {
            sb.AppendLine();
            sb.Append($"  {Match}");
        }
        return sb.ToString();
    }
}
