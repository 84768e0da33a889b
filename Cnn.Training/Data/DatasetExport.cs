using Cnn.Zoo;
using Cnn.Zoo.IO;

namespace Cnn.Training.Data;

/// <summary>Writes datasets to disk in formats other tools read.</summary>
public static class DatasetExport
{
    /// <summary>
    /// Writes <c>root/&lt;class&gt;/&lt;index&gt;.png</c> (torchvision's ImageFolder layout) plus <c>root/classes.txt</c>
    /// listing the class folders in label order, so <see cref="Datasets.ImageFolder(string, BadDataPolicy)"/> reads the
    /// export back with the same label numbers. Class names are made safe as folder names ("T-shirt/top" becomes
    /// "T-shirt_top"). Indices are zero-padded so ordinal file order is index order. With <paramref name="perClass"/>,
    /// the first that many samples of each class in dataset order are written. <paramref name="format"/> picks PNG
    /// (lossless, the default) or JPEG (quality 95). Each file is written to a temporary
    /// name and renamed, so an interrupted export leaves no half-written image under an image name. Images must hold
    /// 1 or 3 channels with values in [0, 1], as the readers produce them.
    /// </summary>
    /// <returns>The full path each written sample went to, by its index in <paramref name="data"/>.</returns>
    public static IReadOnlyDictionary<int, string> ToImageFolder(IImageDataset data, string root, int? perClass = null, ImageFileFormat format = ImageFileFormat.Png)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        if (perClass is < 1) throw new InvalidChoiceException($"expected at least 1 sample per class; found {perClass}");

        var folders = FolderNames(data.Classes);
        var chosen = Choose(data, perClass);
        int digits = Math.Max(1, (data.Count - 1).ToString(System.Globalization.CultureInfo.InvariantCulture).Length);
        string Name(int index) => index.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(digits, '0') + (format == ImageFileFormat.Png ? ".png" : ".jpg");

        root = Path.GetFullPath(root);
        RefuseForeignImages(root, folders, chosen, Name);
        var written = new Dictionary<int, string>();
        for (int label = 0; label < folders.Length; label++)
        {
            string folder = Path.Combine(root, folders[label]);
            Directory.CreateDirectory(folder);
            foreach (int index in chosen[label])
            {
                byte[] encoded = ImageCodec.Encode(data.Load(index), format, data.Describe(index));
                AtomicFile.WriteAllBytes(written[index] = Path.Combine(folder, Name(index)), encoded);
            }
        }
        AtomicFile.WriteAllBytes(Path.Combine(root, ImageFolderDataset.ClassListFile),
            System.Text.Encoding.UTF8.GetBytes(string.Join('\n', folders) + "\n"));
        return written;
    }

    /// <summary>Class names with path separators and other characters invalid in file names replaced by '_'.</summary>
    private static string[] FolderNames(IReadOnlyList<string> classes)
    {
        var invalid = Path.GetInvalidFileNameChars().Concat(['/', '\\', ':', '*', '?', '"', '<', '>', '|']).ToHashSet();
        var names = new string[classes.Count];
        var owner = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int label = 0; label < classes.Count; label++)
        {
            string name = new string(classes[label].Select(ch => invalid.Contains(ch) || char.IsControl(ch) ? '_' : ch).ToArray()).Trim();
            // A leading '.' would hide the folder from ImageFolder; "." and ".." are not folder names at all.
            if (name.Length == 0 || name.StartsWith('.')) name = $"class_{label}";
            if (owner.TryGetValue(name, out int other))
                throw new InvalidChoiceException(
                    $"classes '{classes[other]}' (label {other}) and '{classes[label]}' (label {label}) both map to folder '{name}'; expected distinct folder names");
            owner[name] = label;
            names[label] = name;
        }
        return names;
    }

    private static List<int>[] Choose(IImageDataset data, int? perClass)
    {
        var byClass = Enumerable.Range(0, data.Classes.Count).Select(_ => new List<int>()).ToArray();
        for (int i = 0; i < data.Count; i++)
        {
            int label = data.LabelOf(i);
            if (perClass is null || byClass[label].Count < perClass) byClass[label].Add(i);
        }
        for (int label = 0; label < byClass.Length; label++)
        {
            int needed = perClass ?? 1;
            if (byClass[label].Count < needed)
                throw new InvalidChoiceException(
                    $"class '{data.Classes[label]}' (label {label}) has {DataFiles.Plural(byClass[label].Count, "sample")}; expected at least {needed} " +
                    (perClass is null ? "(an image folder cannot hold an empty class)" : $"(perClass = {perClass})"));
        }
        return byClass;
    }

    /// <summary>
    /// Re-running the same export is fine (files are replaced), but images this export would not write would be read
    /// back as part of the set, so a folder holding any is refused rather than cleaned: deleting is the user's call.
    /// </summary>
    private static void RefuseForeignImages(string root, string[] folders, List<int>[] chosen, Func<int, string> name)
    {
        if (!Directory.Exists(root)) return;
        var foreign = new List<string>();
        foreach (string folder in Directory.EnumerateDirectories(root))
        {
            int label = Array.IndexOf(folders, Path.GetFileName(folder));
            var expected = label < 0 ? [] : chosen[label].Select(name).ToHashSet(StringComparer.Ordinal);
            foreign.AddRange(Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
                .Where(path => ImageFolderDataset.Extensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase))
                .Where(path => !expected.Contains(Path.GetRelativePath(folder, path))));
        }
        if (foreign.Count > 0)
            throw new IOException(
                $"{root}: already holds {DataFiles.Plural(foreign.Count, "image")} this export would not write (e.g. {foreign.Order(StringComparer.Ordinal).First()}); " +
                "expected an empty or missing folder, or one written by the same export");
    }
}
