namespace Cnn.Training.Data;

/// <summary>A file an image folder could not use, and why (a phrase without the path, e.g. "empty file (0 bytes)").</summary>
public sealed record UnreadableFile(string Path, string Problem)
{
    /// <summary>
    /// One line per file, <c>path: problem</c>, for the first <paramref name="listed"/> files, then "... and N more":
    /// a list of thousands of bad files still fits on one screen.
    /// </summary>
    public static string Describe(IReadOnlyList<UnreadableFile> files, int listed = 10)
    {
        ArgumentNullException.ThrowIfNull(files);
        var lines = files.Take(listed).Select(f => $"  {f.Path}: {f.Problem}").ToList();
        if (files.Count > listed) lines.Add($"  ... and {DataFiles.Thousands(files.Count - listed)} more");
        return string.Join(Environment.NewLine, lines);
    }
}
