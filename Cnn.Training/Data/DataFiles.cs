using System.IO.Compression;

namespace Cnn.Training.Data;

/// <summary>File helpers the readers share: whole-file reads with gzip sniffing, class-name lists, byte-to-float.</summary>
internal static class DataFiles
{
    /// <summary>byte / 255 for every byte value: the same floats torchvision's <c>ToTensor</c> makes, without a divide per pixel.</summary>
    public static readonly float[] UnitScale = Enumerable.Range(0, 256).Select(b => b / 255f).ToArray();

    /// <summary>
    /// Reads a whole file, inflating it when it starts with the gzip magic bytes 1F 8B (RFC 1952, section 2.3.1).
    /// Sniffing rather than trusting the extension lets a renamed or already-inflated download be read either way.
    /// </summary>
    public static byte[] ReadAllBytesMaybeGzip(string path, out bool wasGzip)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"data file not found: {path}", path);
        byte[] raw = File.ReadAllBytes(path);
        wasGzip = raw.Length >= 2 && raw[0] == 0x1F && raw[1] == 0x8B;
        if (!wasGzip) return raw;
        try
        {
            // GZipStream ends quietly at a cut-off stream, so callers must still check the inflated size.
            using var gzip = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
            using var inflated = new MemoryStream((int)Math.Min(raw.Length * 4L, 1L << 30));
            gzip.CopyTo(inflated);
            return inflated.ToArray();
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            throw new InvalidDataException($"{path}: starts with the gzip magic bytes but is not a valid gzip stream ({e.Message})", e);
        }
    }

    /// <summary>
    /// Reads class names, one per line, line i naming label i (the layout of our classes.txt and of CIFAR-10's
    /// batches.meta.txt). Trailing blank lines are dropped; a blank or repeated name inside the list is an error.
    /// </summary>
    public static IReadOnlyList<string> ReadClassNames(string path)
    {
        var names = File.ReadAllLines(path).Select(line => line.Trim()).ToList();
        while (names.Count > 0 && names[^1].Length == 0) names.RemoveAt(names.Count - 1);
        return ValidateClassNames(names, path);
    }

    public static IReadOnlyList<string> ValidateClassNames(IReadOnlyList<string> names, string source)
    {
        if (names.Count == 0) throw new InvalidDataException($"{source}: expected at least one class name; found none");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < names.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(names[i]))
                throw new InvalidDataException($"{source}: class name for label {i} is blank; expected one non-empty name per line");
            if (!seen.Add(names[i]))
                throw new InvalidDataException($"{source}: class name '{names[i]}' appears twice (label {i}); expected distinct names");
        }
        return names.ToArray();
    }

    /// <summary>Checks that every label is below <paramref name="classCount"/>; names the first sample that is not.</summary>
    public static void CheckLabels(ReadOnlySpan<byte> labels, int classCount, string source, string classSource)
    {
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] >= classCount)
                throw new InvalidDataException(
                    $"{source} #{i}: label {labels[i]} is out of range; expected 0..{classCount - 1} ({classCount} classes from {classSource})");
        }
    }

    public static string Plural(long count, string noun) => count == 1 ? $"1 {noun}" : $"{Thousands(count)} {noun}s";

    /// <summary>Thousands separated the same way on every machine, so messages (and tests on them) do not depend on the culture.</summary>
    public static string Thousands(long value) => value.ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
}
