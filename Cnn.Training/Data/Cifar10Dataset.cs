namespace Cnn.Training.Data;

/// <summary>
/// CIFAR-10's binary version (Krizhevsky, "Learning Multiple Layers of Features from Tiny Images", 2009;
/// https://www.cs.toronto.edu/~kriz/cifar.html): fixed 3073-byte records, one label byte then 32 x 32 red, green and
/// blue planes, which is already CHW. Files are held in memory as bytes (30 MB each).
/// </summary>
internal sealed class Cifar10Dataset : IImageDataset
{
    public const int Side = 32;
    public const int RecordSize = 1 + 3 * Side * Side;
    public const int ClassCount = 10;

    /// <summary>The names in batches.meta.txt of the official archive, used when that file is absent.</summary>
    public static readonly IReadOnlyList<string> DefaultClasses =
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    private readonly (string Name, byte[] Data)[] _files;
    private readonly int[] _firstIndex; // index of each file's first record, plus Count at the end

    public Cifar10Dataset(IReadOnlyList<string> paths, IReadOnlyList<string> classes)
    {
        Classes = classes;
        _files = new (string, byte[])[paths.Count];
        _firstIndex = new int[paths.Count + 1];
        for (int f = 0; f < paths.Count; f++)
        {
            string path = paths[f];
            if (!File.Exists(path)) throw new FileNotFoundException($"CIFAR-10 batch file not found: {path}", path);
            byte[] data = File.ReadAllBytes(path);
            if (data.Length == 0 || data.Length % RecordSize != 0)
                throw new InvalidDataException(
                    $"{path}: expected a whole number of {RecordSize}-byte CIFAR-10 records (1 label byte + 3 x 32 x 32 pixels; " +
                    $"10,000 records = 30,730,000 bytes); found {DataFiles.Thousands(data.Length)} bytes" +
                    (data.Length % RecordSize != 0 ? $", {data.Length % RecordSize} past the last whole record" : ""));
            int records = data.Length / RecordSize;
            for (int r = 0; r < records; r++)
            {
                byte label = data[r * RecordSize];
                if (label >= classes.Count)
                    throw new InvalidDataException(
                        $"{path} #{r}: label byte {label} is out of range; expected 0..{classes.Count - 1} (is this CIFAR-100, which has two label bytes?)");
            }
            _files[f] = (Path.GetFileName(path), data);
            _firstIndex[f + 1] = _firstIndex[f] + records;
        }
        Count = _firstIndex[^1];
    }

    public int Count { get; }
    public IReadOnlyList<string> Classes { get; }
    public SampleGeometry Geometry { get; } = new(3, Side, Side);

    public int LabelOf(int index)
    {
        var (file, record) = Locate(index);
        return _files[file].Data[record * RecordSize];
    }

    public ImageData Load(int index)
    {
        var (file, record) = Locate(index);
        var source = _files[file].Data.AsSpan(record * RecordSize + 1, RecordSize - 1);
        var pixels = new float[source.Length];
        var scale = DataFiles.UnitScale;
        for (int i = 0; i < pixels.Length; i++) pixels[i] = scale[source[i]];
        return new ImageData(pixels, 3, Side, Side);
    }

    public string Describe(int index)
    {
        var (file, record) = Locate(index);
        return $"{_files[file].Name} #{record}";
    }

    private (int File, int Record) Locate(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"expected 0..{Count - 1}");
        int file = Array.BinarySearch(_firstIndex, index); // starts are strictly increasing: no file is empty
        if (file < 0) file = ~file - 1;
        return (file, index - _firstIndex[file]);
    }
}
