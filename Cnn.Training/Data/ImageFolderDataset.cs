using SkiaSharp;

namespace Cnn.Training.Data;

/// <summary>How an image folder's pictures are turned into channels.</summary>
public enum ColorMode
{
    /// <summary>Three channels; grey pictures are repeated, alpha is dropped (PIL's <c>convert("RGB")</c>, torchvision's default loader).</summary>
    Rgb,

    /// <summary>One channel of ITU-R BT.601 luma, rounded as PIL's <c>convert("L")</c> does, for digit-style data.</summary>
    Grey,
}

/// <summary>
/// torchvision's <c>ImageFolder</c> layout: <c>root/&lt;class&gt;/**/&lt;image&gt;</c>. Class folders and files are
/// sorted ordinally (culture-independent, so labels are the same on every machine), except that a <c>classes.txt</c>
/// in the root, if present, lists the folder names in label order (what <see cref="DatasetExport"/> writes, so an
/// exported set keeps its original label numbers). Names starting with '.' are ignored, which keeps Jupyter's
/// <c>.ipynb_checkpoints</c> from becoming a class. Images are decoded lazily by SkiaSharp in <see cref="Load"/>.
/// </summary>
internal sealed class ImageFolderDataset : IImageDataset
{
    public const string ClassListFile = "classes.txt";

    /// <summary>What SkiaSharp decodes; anything else in a class folder (notes, CSVs, .tmp files) is ignored.</summary>
    public static readonly IReadOnlyList<string> Extensions = [".png", ".jpg", ".jpeg", ".webp", ".bmp"];

    private readonly string[] _files;
    private readonly int[] _labels;
    private readonly BadDataPolicy _policy;
    private readonly ColorMode _mode;

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
        _files = files.ToArray();
        _labels = labels.ToArray();
    }

    public int Count => _files.Length;
    public IReadOnlyList<string> Classes { get; }

    public int LabelOf(int index) => _labels[index];

    public string Describe(int index) => _files[index];

    public ImageData Load(int index)
    {
        string path = _files[index];
        try
        {
            return ImageCodec.Decode(path, _mode);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            throw new BadSampleException(path, e.Message, _policy, e);
        }
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

/// <summary>SkiaSharp decoding and encoding between image files and <see cref="ImageData"/>.</summary>
public static class ImageCodec
{
    /// <summary>
    /// Decodes to straight (unpremultiplied) RGBA bytes, then to float CHW. Every native result is checked: a null codec
    /// or a failed or incomplete decode becomes an <see cref="InvalidDataException"/>, never a crash. A truncated file is
    /// an error rather than a partly grey picture, as in PIL (LOAD_TRUNCATED_IMAGES is off by default). EXIF orientation
    /// is not applied, as in torchvision's PIL loader.
    /// </summary>
    public static ImageData Decode(string path, ColorMode mode)
    {
        if (!File.Exists(path)) throw new FileNotFoundException("file no longer exists", path);
        using var codec = SKCodec.Create(path, out SKCodecResult opened);
        if (codec is null)
            throw new InvalidDataException($"not a decodable image ({opened}); expected PNG, JPEG, WebP or BMP data");
        int width = codec.Info.Width, height = codec.Info.Height;
        if (width <= 0 || height <= 0)
            throw new InvalidDataException($"image header declares {width}x{height} pixels; expected a positive size");
        if ((long)width * height * 4 > Array.MaxLength)
            throw new InvalidDataException($"image of {width}x{height} pixels is too large to decode into one buffer");

        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = new byte[info.BytesSize];
        SKCodecResult decoded = codec.GetPixels(info, rgba);
        if (decoded == SKCodecResult.IncompleteInput)
            throw new InvalidDataException($"truncated image: the {codec.EncodedFormat} data ends before all {width}x{height} pixels");
        if (decoded != SKCodecResult.Success)
            throw new InvalidDataException($"decoding the {codec.EncodedFormat} data failed ({decoded})");
        return mode == ColorMode.Grey ? GreyFromRgba(rgba, height, width) : RgbFromRgba(rgba, height, width);
    }

    private static ImageData RgbFromRgba(byte[] rgba, int height, int width)
    {
        int plane = height * width;
        var pixels = new float[3 * plane];
        var scale = DataFiles.UnitScale;
        Span<float> red = pixels.AsSpan(0, plane), green = pixels.AsSpan(plane, plane), blue = pixels.AsSpan(2 * plane, plane);
        ReadOnlySpan<byte> source = rgba.AsSpan(0, 4 * plane);
        for (int i = 0, at = 0; i < red.Length; i++, at += 4)
        {
            red[i] = scale[source[at]];
            green[i] = scale[source[at + 1]];
            blue[i] = scale[source[at + 2]];
        }
        return new ImageData(pixels, 3, height, width);
    }

    /// <summary>PIL's <c>L = R * 299/1000 + G * 587/1000 + B * 114/1000</c> in its 16-bit fixed point, so values match PIL's.</summary>
    private static ImageData GreyFromRgba(byte[] rgba, int height, int width)
    {
        int plane = height * width;
        var pixels = new float[plane];
        var scale = DataFiles.UnitScale;
        for (int i = 0; i < plane; i++)
        {
            int luma = (rgba[4 * i] * 19595 + rgba[4 * i + 1] * 38470 + rgba[4 * i + 2] * 7471 + 0x8000) >> 16;
            pixels[i] = scale[luma];
        }
        return new ImageData(pixels, 1, height, width);
    }

    /// <summary>
    /// Encodes a 1- or 3-channel image with values in [0, 1]: grey as 8-bit grey, RGB as opaque RGBA. Values are rounded
    /// to the nearest byte; PNG is lossless (the readers' byte / 255 is inverted exactly), JPEG is written at quality 95.
    /// </summary>
    public static byte[] Encode(ImageData image, ImageFileFormat format, string what)
    {
        if (image.Channels is not (1 or 3))
            throw new ArgumentException($"{what}: {format} export needs 1 or 3 channels; found {image}");
        int plane = image.PlaneSize;
        var src = image.Pixels;
        SKImageInfo info;
        byte[] bytes;
        if (image.Channels == 1)
        {
            info = new SKImageInfo(image.Width, image.Height, SKColorType.Gray8, SKAlphaType.Opaque);
            bytes = new byte[plane];
            for (int i = 0; i < plane; i++) bytes[i] = ToByte(src[i]);
        }
        else
        {
            info = new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque);
            bytes = new byte[4 * plane];
            for (int i = 0; i < plane; i++)
            {
                bytes[4 * i] = ToByte(src[i]);
                bytes[4 * i + 1] = ToByte(src[plane + i]);
                bytes[4 * i + 2] = ToByte(src[2 * plane + i]);
                bytes[4 * i + 3] = 255;
            }
        }
        var handle = System.Runtime.InteropServices.GCHandle.Alloc(bytes, System.Runtime.InteropServices.GCHandleType.Pinned);
        try
        {
            using var pixmap = new SKPixmap(info, handle.AddrOfPinnedObject(), info.RowBytes);
            using var data = format == ImageFileFormat.Png ? pixmap.Encode(SKEncodedImageFormat.Png, 100)
                                                           : pixmap.Encode(SKEncodedImageFormat.Jpeg, 95);
            return data?.ToArray() ?? throw new InvalidOperationException($"{what}: SkiaSharp could not encode a {image} {format}");
        }
        finally
        {
            handle.Free();
        }
    }

    private static byte ToByte(float value) => (byte)Math.Clamp(MathF.Round(value * 255f), 0f, 255f);
}

/// <summary>File formats the exporter writes.</summary>
public enum ImageFileFormat
{
    /// <summary>Lossless; the default.</summary>
    Png,
    /// <summary>Lossy (quality 95), smaller and slower to decode: what most photo collections hold.</summary>
    Jpeg,
}
