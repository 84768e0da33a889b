using Cnn.Zoo;
namespace Cnn.Training.Data;

/// <summary>
/// Opens the supported on-disk formats and derives splits and subsets, all deterministic given a seed.
/// <para>What a reader throws (the documented exceptions, tested with seeded damage in CorruptionTests): a missing file
/// or folder is a <see cref="FileNotFoundException"/> or <see cref="DirectoryNotFoundException"/>; a file whose
/// contents are wrong (truncated, corrupt, wrong format, labels out of range, undecodable images) is an
/// <see cref="InvalidDataException"/>. Every message names the file, says what was expected and what was found.
/// Files are checked when a data set is opened, so <see cref="IImageDataset.Load"/> fails only if a file changes
/// afterwards (a <see cref="BadSampleException"/>).</para>
/// </summary>
public static class Datasets
{
    /// <summary>One IDX images/labels pair, raw or gzip (detected from the magic bytes, not the name).</summary>
    public static IImageDataset Idx(string imagesPath, string labelsPath, IReadOnlyList<string>? classes = null) =>
        new IdxDataset(imagesPath, labelsPath, classes);

    /// <summary>
    /// A folder laid out like the MNIST distribution: <c>train-images-idx3-ubyte</c>, <c>train-labels-idx1-ubyte</c>,
    /// <c>t10k-images-idx3-ubyte</c>, <c>t10k-labels-idx1-ubyte</c>, each raw or with <c>.gz</c>, and optionally
    /// <c>classes.txt</c> (one name per line, line i = label i), as in data/mnist and data/fashion-mnist.
    /// </summary>
    public static (IImageDataset Train, IImageDataset Test) IdxFolder(string folder)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"IDX folder not found: {folder}");
        string classesPath = Path.Combine(folder, "classes.txt");
        var classes = File.Exists(classesPath) ? DataFiles.ReadClassNames(classesPath) : null;
        var train = Idx(FindIdx(folder, "train-images-idx3-ubyte"), FindIdx(folder, "train-labels-idx1-ubyte"), classes);
        var test = Idx(FindIdx(folder, "t10k-images-idx3-ubyte"), FindIdx(folder, "t10k-labels-idx1-ubyte"), classes ?? train.Classes);
        return (train, test);
    }

    /// <summary>
    /// CIFAR-10's binary version: <c>data_batch_1.bin</c> .. <c>data_batch_5.bin</c> (train) and <c>test_batch.bin</c>,
    /// in <paramref name="folder"/> or in the <c>cifar-10-batches-bin</c> folder the official archive unpacks to.
    /// Class names come from <c>batches.meta.txt</c> when present. All six files are required: a missing training batch
    /// is an incomplete download, not a smaller dataset.
    /// </summary>
    public static (IImageDataset Train, IImageDataset Test) Cifar10(string folder)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"CIFAR-10 folder not found: {folder}");
        string nested = Path.Combine(folder, "cifar-10-batches-bin");
        if (!File.Exists(Path.Combine(folder, "test_batch.bin")) && Directory.Exists(nested)) folder = nested;

        string metaPath = Path.Combine(folder, "batches.meta.txt");
        var classes = File.Exists(metaPath) ? DataFiles.ReadClassNames(metaPath) : Cifar10Dataset.DefaultClasses;
        if (classes.Count != Cifar10Dataset.ClassCount)
            throw new InvalidDataException($"{metaPath}: expected {Cifar10Dataset.ClassCount} class names; found {classes.Count}");

        var trainFiles = Enumerable.Range(1, 5).Select(i => Path.Combine(folder, $"data_batch_{i}.bin")).ToList();
        var missing = trainFiles.Append(Path.Combine(folder, "test_batch.bin")).Where(path => !File.Exists(path)).ToList();
        if (missing.Count > 0)
            throw new FileNotFoundException(
                $"{folder}: expected CIFAR-10 binary batches data_batch_1.bin .. data_batch_5.bin and test_batch.bin; " +
                $"missing {string.Join(", ", missing.Select(Path.GetFileName))}", missing[0]);
        return (new Cifar10Dataset(trainFiles, classes), new Cifar10Dataset([Path.Combine(folder, "test_batch.bin")], classes));
    }

    /// <summary>torchvision's ImageFolder layout, decoded as RGB; see <see cref="ImageFolder(string, BadDataPolicy, ColorMode)"/>.</summary>
    public static ImageFolderDataset ImageFolder(string root, BadDataPolicy policy = BadDataPolicy.Fail) =>
        new(root, policy, ColorMode.Rgb);

    /// <summary>
    /// <c>root/&lt;class&gt;/**/*.{png,jpg,jpeg,webp,bmp}</c>, classes and files in ordinal order (or classes in the order
    /// of <c>root/classes.txt</c>). Every file is decoded once here, so bad files are reported (or, with
    /// <see cref="BadDataPolicy.Skip"/>, left out and listed in <see cref="ImageFolderDataset.LeftOut"/>) before
    /// training; training decodes again in <see cref="IImageDataset.Load"/>, on the loader's workers.
    /// </summary>
    public static ImageFolderDataset ImageFolder(string root, BadDataPolicy policy, ColorMode mode) =>
        new(root, policy, mode);

    /// <summary>
    /// A stratified split: within each class, a seeded shuffle, then <c>round(n * validationFraction)</c> samples go to
    /// validation, so both parts keep the class proportions. Both parts list their samples in the original order.
    /// </summary>
    public static (IImageDataset Train, IImageDataset Validation) Split(IImageDataset data, double validationFraction, int seed)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (!(validationFraction > 0 && validationFraction < 1))
            throw new InvalidChoiceException($"expected a validation fraction strictly between 0 and 1; found {validationFraction}");
        var train = new List<int>();
        var validation = new List<int>();
        foreach (var members in ShuffledByClass(data, seed))
        {
            int take = (int)Math.Round(members.Count * validationFraction, MidpointRounding.AwayFromZero);
            validation.AddRange(members.Take(take));
            train.AddRange(members.Skip(take));
        }
        return (new SubsetDataset(data, Sorted(train)), new SubsetDataset(data, Sorted(validation)));
    }

    /// <summary>
    /// <paramref name="perClass"/> samples of every class: the first ones after a seeded shuffle within each class
    /// (the few-shot "300 images, 30 per class" setting). A class with fewer samples is an error, not a silently
    /// unbalanced subset. Samples are listed in the original order.
    /// </summary>
    public static IImageDataset Subset(IImageDataset data, int perClass, int seed)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfLessThan(perClass, 1);
        var chosen = new List<int>();
        var byClass = ShuffledByClass(data, seed);
        for (int label = 0; label < byClass.Length; label++)
        {
            if (byClass[label].Count < perClass)
                throw new InvalidChoiceException(
                    $"class '{data.Classes[label]}' (label {label}) has {DataFiles.Plural(byClass[label].Count, "sample")}; expected at least perClass = {perClass}");
            chosen.AddRange(byClass[label].Take(perClass));
        }
        return new SubsetDataset(data, Sorted(chosen));
    }

    /// <summary>Sample indices grouped by label, each group shuffled by its own seeded generator (independent of other classes).</summary>
    private static List<int>[] ShuffledByClass(IImageDataset data, int seed)
    {
        var byClass = Enumerable.Range(0, data.Classes.Count).Select(_ => new List<int>()).ToArray();
        for (int i = 0; i < data.Count; i++)
        {
            int label = data.LabelOf(i);
            if ((uint)label >= (uint)byClass.Length)
                throw new InvalidDataException($"{data.Describe(i)}: label {label} is out of range; expected 0..{byClass.Length - 1}");
            byClass[label].Add(i);
        }
        for (int label = 0; label < byClass.Length; label++)
            Shuffle(byClass[label], new Random(SeedMix.Combine(seed, label)));
        return byClass;
    }

    /// <summary>Fisher-Yates written out rather than <see cref="Random.Shuffle{T}(T[])"/>, whose draws the runtime may change.</summary>
    internal static void Shuffle<T>(IList<T> items, Random rng)
    {
        for (int i = items.Count - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    private static int[] Sorted(List<int> indices)
    {
        var array = indices.ToArray();
        Array.Sort(array);
        return array;
    }

    private static string FindIdx(string folder, string name)
    {
        string raw = Path.Combine(folder, name);
        if (File.Exists(raw)) return raw;
        if (File.Exists(raw + ".gz")) return raw + ".gz";
        throw new FileNotFoundException($"{folder}: expected {name} or {name}.gz (MNIST IDX layout); found neither", raw);
    }
}
