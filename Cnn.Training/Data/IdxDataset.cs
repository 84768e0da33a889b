using System.Buffers.Binary;

namespace Cnn.Training.Data;

/// <summary>
/// MNIST-style IDX files (LeCun et al., http://yann.lecun.com/exdb/mnist/): a big-endian magic number whose third byte
/// is the element type (0x08 = unsigned byte) and fourth the number of dimensions, then one 32-bit big-endian size per
/// dimension, then the elements row-major. Both files are held in memory as bytes (47 MB for the full MNIST training
/// set); <see cref="Load"/> converts one image to float on demand.
/// </summary>
internal sealed class IdxDataset : IImageDataset
{
    private const int ImagesMagic = 0x00000803; // unsigned bytes, 3 dimensions: N x rows x cols
    private const int LabelsMagic = 0x00000801; // unsigned bytes, 1 dimension: N

    private readonly byte[] _images;
    private readonly int _imagesOffset;
    private readonly byte[] _labels;
    private readonly int _labelsOffset;
    private readonly string _imagesName;

    public IdxDataset(string imagesPath, string labelsPath, IReadOnlyList<string>? classes)
    {
        _images = DataFiles.ReadAllBytesMaybeGzip(imagesPath, out bool imagesGzip);
        int[] imageDims = ReadHeader(_images, imagesPath, imagesGzip, ImagesMagic, "images (N x rows x cols)");
        _labels = DataFiles.ReadAllBytesMaybeGzip(labelsPath, out bool labelsGzip);
        int[] labelDims = ReadHeader(_labels, labelsPath, labelsGzip, LabelsMagic, "labels (N)");
        _imagesOffset = 4 + 4 * imageDims.Length;
        _labelsOffset = 4 + 4 * labelDims.Length;

        if (imageDims[0] != labelDims[0])
            throw new InvalidDataException(
                $"{labelsPath}: holds {DataFiles.Plural(labelDims[0], "label")}; expected one per image, " +
                $"{DataFiles.Thousands(imageDims[0])} as in {imagesPath}");

        Count = imageDims[0];
        Height = imageDims[1];
        Width = imageDims[2];
        _imagesName = Path.GetFileName(imagesPath);

        var labelBytes = _labels.AsSpan(_labelsOffset, Count);
        if (classes is null)
        {
            int max = Count == 0 ? 0 : labelBytes.ToArray().Max();
            Classes = Enumerable.Range(0, max + 1).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        }
        else
        {
            Classes = DataFiles.ValidateClassNames(classes, "class list");
            DataFiles.CheckLabels(labelBytes, Classes.Count, labelsPath, "the class list");
        }
    }

    public int Count { get; }
    public int Height { get; }
    public int Width { get; }
    public IReadOnlyList<string> Classes { get; }
    public SampleGeometry Geometry => new(1, Height, Width);

    public int LabelOf(int index) => _labels[_labelsOffset + CheckIndex(index)];

    public ImageData Load(int index)
    {
        int size = Height * Width;
        var source = _images.AsSpan(_imagesOffset + CheckIndex(index) * size, size);
        var pixels = new float[size];
        var scale = DataFiles.UnitScale;
        for (int i = 0; i < pixels.Length; i++) pixels[i] = scale[source[i]];
        return new ImageData(pixels, 1, Height, Width);
    }

    public string Describe(int index) => $"{_imagesName} #{index}";

    private int CheckIndex(int index) =>
        (uint)index < (uint)Count ? index : throw new ArgumentOutOfRangeException(nameof(index), index, $"expected 0..{Count - 1}");

    private static string Thousands(Int128 value) => value.ToString("N0", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Validates magic, dimensions and the exact file size; returns the dimension sizes.</summary>
    private static int[] ReadHeader(byte[] data, string path, bool gzip, int expectedMagic, string what)
    {
        int ndims = expectedMagic & 0xFF;
        int headerSize = 4 + 4 * ndims;
        if (data.Length < 4)
            throw new InvalidDataException($"{path}: expected an IDX {what} file starting with magic 0x{expectedMagic:X8}; found only {DataFiles.Plural(data.Length, "byte")}");
        int magic = BinaryPrimitives.ReadInt32BigEndian(data);
        if (magic != expectedMagic)
        {
            string hint = magic switch
            {
                ImagesMagic => " (an images file: are the images and labels paths swapped?)",
                LabelsMagic => " (a labels file: are the images and labels paths swapped?)",
                _ when (magic >> 16) != 0 => " (not an IDX file; a compressed file other than gzip?)",
                _ => "",
            };
            throw new InvalidDataException($"{path}: expected IDX magic 0x{expectedMagic:X8} for unsigned-byte {what}; found 0x{magic:X8}{hint}");
        }
        if (data.Length < headerSize)
            throw new InvalidDataException($"{path}: truncated header; expected {headerSize} bytes for {ndims} dimension sizes, found {data.Length}");

        var dims = new int[ndims];
        Int128 elements = 1; // three 31-bit sizes can overflow a long, and could wrap around to a plausible size
        for (int d = 0; d < ndims; d++)
        {
            dims[d] = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(4 + 4 * d));
            bool countMayBeZero = d == 0;
            if (dims[d] < 0 || (dims[d] == 0 && !countMayBeZero))
                throw new InvalidDataException($"{path}: dimension {d} of the {what} is {dims[d]}; expected a positive size");
            elements *= dims[d];
        }
        Int128 expected = headerSize + elements;
        if (data.Length != expected)
        {
            string kind = data.Length < expected ? (gzip ? "truncated (once inflated: an interrupted download?)" : "truncated") : "has trailing bytes";
            throw new InvalidDataException(
                $"{path}: {kind}; the header declares {string.Join(" x ", dims)} {what}, so expected {Thousands(expected)} bytes " +
                $"({headerSize} header + {Thousands(elements)} data), found {DataFiles.Thousands(data.Length)}");
        }
        return dims;
    }
}
