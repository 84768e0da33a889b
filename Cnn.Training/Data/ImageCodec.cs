using System.Runtime.InteropServices;
using SkiaSharp;

namespace Cnn.Training.Data;

/// <summary>SkiaSharp decoding and encoding between image files and <see cref="ImageData"/>.</summary>
public static class ImageCodec
{
    /// <summary>
    /// The most pixels a header may declare: PIL's <c>Image.MAX_IMAGE_PIXELS</c> (89,478,485, a 0.25 GiB RGBA
    /// buffer). A larger claim is a decompression bomb or a damaged header, and is refused before anything is allocated.
    /// </summary>
    public const long MaxPixels = 89_478_485;

    /// <summary>
    /// Decodes to straight (unpremultiplied) RGBA bytes, then to float CHW with the channels of <paramref name="mode"/>.
    /// Every native result is checked: an empty file, a null codec, a header declaring a non-positive or absurd size,
    /// or a failed or incomplete decode becomes an <see cref="InvalidDataException"/> naming <paramref name="path"/>,
    /// never a crash. A truncated file is an error rather than a partly grey picture, as in PIL (LOAD_TRUNCATED_IMAGES is
    /// off by default). EXIF orientation is not applied, as in torchvision's PIL loader.
    /// </summary>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is empty, damaged, or not an image SkiaSharp decodes.</exception>
    public static ImageData Decode(string path, ColorMode mode)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"image file not found: {path}", path);
        return TryDecode(path, mode, out string problem) ?? throw new InvalidDataException($"{path}: {problem}");
    }

    /// <summary>Decodes with the channels a model takes: grey for 1, RGB for 3 (see <see cref="ColorModes.ForChannels"/>).</summary>
    public static ImageData Decode(string path, int channels) => Decode(path, ColorModes.ForChannels(channels));

    /// <summary>
    /// <see cref="Decode(string, ColorMode)"/> without exceptions: the image, or null and what is wrong with the file
    /// (a phrase without the path, for lists of bad files). Safe to call from several threads at once.
    /// </summary>
    internal static ImageData? TryDecode(string path, ColorMode mode, out string problem)
    {
        const string expected = "expected PNG, JPEG, WebP or BMP data";
        var file = new FileInfo(path);
        if (!file.Exists) { problem = "the file no longer exists"; return null; }
        if (file.Length == 0) { problem = $"empty file (0 bytes); {expected}"; return null; }
        using var codec = SKCodec.Create(path, out SKCodecResult opened);
        if (codec is null)
        {
            // Skia also says IncompleteInput for a short file it cannot even recognise: call it truncated only when the
            // file starts like an image.
            string? started = opened == SKCodecResult.IncompleteInput ? Signature(path) : null;
            problem = started is not null
                ? $"truncated: the {started} file ({DataFiles.Plural(file.Length, "byte")}) ends inside its header"
                : $"not a decodable image ({opened}, {DataFiles.Plural(file.Length, "byte")}); {expected}";
            return null;
        }
        int width = codec.Info.Width, height = codec.Info.Height;
        string format = codec.EncodedFormat.ToString().ToUpperInvariant();
        if (width <= 0 || height <= 0)
        {
            problem = $"the {format} header declares {width}x{height} pixels; expected a positive size";
            return null;
        }
        // The header is all SKCodec has read so far: refuse an absurd size before allocating for it.
        if ((long)width * height > MaxPixels)
        {
            problem = $"the {format} header declares {width}x{height} = {DataFiles.Thousands((long)width * height)} pixels; " +
                      $"expected at most {DataFiles.Thousands(MaxPixels)} (a damaged header or a decompression bomb); not decoded";
            return null;
        }

        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = new byte[info.BytesSize];
        SKCodecResult decoded = codec.GetPixels(info, rgba);
        if (decoded != SKCodecResult.Success)
        {
            problem = decoded == SKCodecResult.IncompleteInput
                ? $"truncated: the {format} data ({DataFiles.Plural(file.Length, "byte")}) ends before all {width}x{height} pixels"
                : $"damaged: decoding the {width}x{height} {format} data failed ({decoded})";
            return null;
        }
        problem = "";
        return mode == ColorMode.Grey ? GreyFromRgba(rgba, height, width) : RgbFromRgba(rgba, height, width);
    }

    /// <summary>The format whose magic bytes the file starts with (PNG, JPEG, WebP, BMP), or null.</summary>
    private static string? Signature(string path)
    {
        Span<byte> head = stackalloc byte[12];
        int read;
        using (var stream = File.OpenRead(path)) read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        head = head[..read];
        if (head.StartsWith((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])) return "PNG";
        if (head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF])) return "JPEG";
        if (read == 12 && head[..4].SequenceEqual("RIFF"u8) && head[8..].SequenceEqual("WEBP"u8)) return "WebP";
        if (head.StartsWith("BM"u8) && read >= 6) return "BMP";
        return null;
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

    private static ImageData GreyFromRgba(byte[] rgba, int height, int width)
    {
        int plane = height * width;
        var pixels = new float[plane];
        var scale = DataFiles.UnitScale;
        for (int i = 0; i < plane; i++) pixels[i] = scale[ColorModes.Luma(rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2])];
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
            for (int i = 0; i < plane; i++) bytes[i] = ColorModes.ToByte(src[i]);
        }
        else
        {
            info = new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque);
            bytes = new byte[4 * plane];
            for (int i = 0; i < plane; i++)
            {
                bytes[4 * i] = ColorModes.ToByte(src[i]);
                bytes[4 * i + 1] = ColorModes.ToByte(src[plane + i]);
                bytes[4 * i + 2] = ColorModes.ToByte(src[2 * plane + i]);
                bytes[4 * i + 3] = 255;
            }
        }
        var handle = GCHandle.Alloc(bytes, GCHandleType.Pinned);
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
}
