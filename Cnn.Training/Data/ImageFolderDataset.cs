using System.Collections.Concurrent;

namespace Cnn.Training.Data;

/// <summary>
/// torchvision's <c>ImageFolder</c> layout: <c>root/&lt;class&gt;/**/&lt;image&gt;</c>. Class folders and files are
/// sorted ordinally (culture-independent, so labels are the same on every machine), except that a <c>classes.txt</c>
/// in the root, if present, lists the folder names in label order (what <see cref="DatasetExport"/> writes, so an
/// exported set keeps its original label numbers). Names starting with '.' are ignored, which keeps Jupyter's
/// <c>.ipynb_checkpoints</c> from becoming a class.
/// <para>Every file is decoded once when the folder is opened (in parallel; for small pictures this costs a fraction of
/// one epoch's decoding), so an empty, truncated, damaged or absurdly large file is found before training starts rather
/// than mid-epoch, and all of them are reported at once. With <see cref="BadDataPolicy.Fail"/> that report is an
/// <see cref="InvalidDataException"/>; with <see cref="BadDataPolicy.Skip"/> the files are left out and listed in
/// <see cref="LeftOut"/>. Training decodes again, lazily, in <see cref="Load"/> on the loader's workers.</para>
/// </summary>
public sealed class ImageFolderDataset : IImageDataset
{
    public const string ClassListFile = "classes.txt";

    /// <summary>What SkiaSharp decodes; anything else in a class folder (notes, CSVs, .tmp files) is ignored.</summary>
    public static readonly IReadOnlyList<string> Extensions = [".png", ".jpg", ".jpeg", ".webp", ".bmp"];

    /// <summary>How many bad files an error message names before "... and N more".</summary>
    public const int ListedInMessages = 10;

    private readonly string[] _files;
    private readonly int[] _labels;
    private readonly BadDataPolicy _policy;
    private readonly ColorMode _mode;

    /// <exception cref="DirectoryNotFoundException"><paramref name="root"/> does not exist.</exception>
    /// <exception cref="InvalidDataException">The layout is wrong, or (with <see cref="BadDataPolicy.Fail"/>) some files
    /// cannot be decoded; the message lists them.</exception>
    public ImageFolderDataset(string root, BadDataPolicy policy, ColorMode mode)
    {
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"image folder not found: {root}");
        _policy = policy;
        _mode = mode;
        root = Path.GetFullPath(root);

        var folders = Directory.EnumerateDirectories(root)
            .Select(Path.GetFileName)
            .OfType<string>()
            .Where(name => !name.StartsWith('.'))
            .Order(StringComparer.Ordinal)
            .ToList();
        string listPath = Path.Combine(root, ClassListFile);
        IReadOnlyList<string> classes = File.Exists(listPath) ? ClassesFromList(listPath, folders) : folders;
        if (classes.Count == 0)
            throw new InvalidDataException($"{root}: expected one sub-folder per class (torchvision ImageFolder layout); found none");

        var files = new List<string>();
        var labels = new List<int>();
        for (int label = 0; label < classes.Count; label++)
        {
            string folder = Path.Combine(root, classes[label]);
            var images = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
                .Where(path => IsImage(Path.GetRelativePath(folder, path)))
                .Order(StringComparer.Ordinal)
                .ToList();
            if (images.Count == 0)
                throw new InvalidDataException(
                    $"{folder}: class folder '{classes[label]}' holds no images; expected at least one {string.Join(", ", Extensions)} file");
            files.AddRange(images);
            labels.AddRange(Enumerable.Repeat(label, images.Count));
        }
        Classes = classes;

        var (bad, sizes) = Scan(files, mode);
        if (bad.Count > 0 && policy == BadDataPolicy.Fail)
            throw new InvalidDataException(
                $"{root}: {DataFiles.Thousands(bad.Count)} of {DataFiles.Thousands(files.Count)} image files cannot be used:" +
                Environment.NewLine + UnreadableFile.Describe(bad, ListedInMessages) + Environment.NewLine +
                "Replace or delete these files, or leave them out with BadDataPolicy.Skip (--bad-data skip).");
        var left = bad.Select(b => b.Path).ToHashSet(StringComparer.Ordinal);
        _files = files.Where(f => !left.Contains(f)).ToArray();
        _labels = labels.Where((_, i) => !left.Contains(files[i])).ToArray();
        LeftOut = bad;
        Geometry = SampleGeometry.Of(mode == ColorMode.Grey ? 1 : 3, sizes.Where((_, i) => !left.Contains(files[i])));
    }

    /// <summary>Files left out because they could not be decoded (only with <see cref="BadDataPolicy.Skip"/>), in file order.</summary>
    public IReadOnlyList<UnreadableFile> LeftOut { get; }

    public int Count => _files.Length;
    public IReadOnlyList<string> Classes { get; }

    public int LabelOf(int index) => _labels[index];

    /// <summary>From every image the scan decoded: a folder of mixed sizes says so, whatever its first image is.</summary>
    public SampleGeometry Geometry { get; }

    public string Describe(int index) => _files[index];

    /// <summary>Decodes one image; a file that has changed since the scan and no longer decodes is a <see cref="BadSampleException"/>.</summary>
    public ImageData Load(int index)
    {
        string path = _files[index];
        try
        {
            return ImageCodec.TryDecode(path, _mode, out string problem) ?? throw new BadSampleException(path, problem, _policy);
        }
        catch (Exception e) when (e is IOException and not BadSampleException or UnauthorizedAccessException)
        {
            throw new BadSampleException(path, e.Message, _policy, e);
        }
    }

    /// <summary>Decodes every file, in parallel; returns the ones that fail, in file order, and every file's size (0x0 for those that fail).</summary>
    private static (List<UnreadableFile> Bad, (int Height, int Width)[] Sizes) Scan(IReadOnlyList<string> files, ColorMode mode)
    {
        var problems = new ConcurrentDictionary<int, string>();
        var sizes = new (int Height, int Width)[files.Count];
        Parallel.For(0, files.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            string problem;
            try
            {
                if (ImageCodec.TryDecode(files[i], mode, out problem) is { } image)
                {
                    sizes[i] = (image.Height, image.Width);
                    return;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                problem = $"cannot be read ({e.Message})";
            }
            problems[i] = problem;
        });
        return (problems.OrderBy(p => p.Key).Select(p => new UnreadableFile(files[p.Key], p.Value)).ToList(), sizes);
    }

    private static bool IsImage(string relativePath)
    {
        var parts = relativePath.Split(Path.DirectorySeparatorChar);
        return !parts.Any(part => part.StartsWith('.'))
            && Extensions.Contains(Path.GetExtension(relativePath), StringComparer.OrdinalIgnoreCase);
    }

    private static IReadOnlyList<string> ClassesFromList(string listPath, IReadOnlyList<string> folders)
    {
        var listed = DataFiles.ReadClassNames(listPath);
        var missing = listed.Where(name => !folders.Contains(name, StringComparer.Ordinal)).ToList();
        if (missing.Count > 0)
            throw new InvalidDataException(
                $"{listPath}: lists class folder(s) {string.Join(", ", missing.Select(m => $"'{m}'"))} that do not exist; expected every line to name a sub-folder");
        var unlisted = folders.Where(name => !listed.Contains(name, StringComparer.Ordinal)).ToList();
        if (unlisted.Count > 0)
            throw new InvalidDataException(
                $"{listPath}: does not list sub-folder(s) {string.Join(", ", unlisted.Select(u => $"'{u}'"))}; expected one line per class folder, in label order");
        return listed;
    }
}

