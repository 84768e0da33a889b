using System.Buffers.Binary;
using System.IO.Compression;
using Cnn.Training.Data;
using SkiaSharp;

namespace Cnn.Tests.Data;

internal static class TestFiles
{
    /// <summary>An IDX images file: magic 0x803, N, rows, cols, then the bytes; gzip-compressed when asked.</summary>
    public static byte[] IdxImages(byte[][] images, int rows, int cols, bool gzip = false)
    {
        var bytes = new byte[16 + images.Length * rows * cols];
        BinaryPrimitives.WriteInt32BigEndian(bytes, 0x803);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), images.Length);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), rows);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(12), cols);
        for (int i = 0; i < images.Length; i++) images[i].CopyTo(bytes, 16 + i * rows * cols);
        return gzip ? Gzip(bytes) : bytes;
    }

    public static byte[] IdxLabels(byte[] labels, bool gzip = false)
    {
        var bytes = new byte[8 + labels.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, 0x801);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), labels.Length);
        labels.CopyTo(bytes, 8);
        return gzip ? Gzip(bytes) : bytes;
    }

    /// <summary>N images of rows x cols where pixel p of image i is (i * 31 + p * 7) mod 256: every byte value recoverable.</summary>
    public static byte[][] PatternImages(int count, int rows, int cols) =>
        Enumerable.Range(0, count)
            .Select(i => Enumerable.Range(0, rows * cols).Select(p => (byte)((i * 31 + p * 7) % 256)).ToArray())
            .ToArray();

    public static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(data);
        return output.ToArray();
    }

    /// <summary>CIFAR-10 binary records: label byte, then 1024 red, 1024 green, 1024 blue bytes.</summary>
    public static byte[] CifarRecords(params (byte Label, byte Red, byte Green, byte Blue)[] records)
    {
        var bytes = new byte[records.Length * 3073];
        for (int r = 0; r < records.Length; r++)
        {
            int at = r * 3073;
            bytes[at] = records[r].Label;
            bytes.AsSpan(at + 1, 1024).Fill(records[r].Red);
            bytes.AsSpan(at + 1025, 1024).Fill(records[r].Green);
            bytes.AsSpan(at + 2049, 1024).Fill(records[r].Blue);
        }
        return bytes;
    }

    /// <summary>A solid-colour picture encoded by SkiaSharp (PNG is lossless, JPEG is not).</summary>
    public static byte[] Solid(int width, int height, SKColor colour, SKEncodedImageFormat format)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        bitmap.Erase(colour);
        using var data = bitmap.Encode(format, 95);
        return data.ToArray();
    }

    /// <summary>A PNG whose pixel (x, y) is (x * 10, y * 20, 200): position-dependent, to check orientation and order.</summary>
    public static byte[] GradientPng(int width, int height)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                bitmap.SetPixel(x, y, new SKColor((byte)(x * 10), (byte)(y * 20), 200));
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>
    /// A valid PNG signature and IHDR declaring width x height 8-bit RGB, then one IDAT holding a single row and IEND:
    /// what a damaged header or a decompression bomb looks like to a decoder (checksums are right, so only the size is off).
    /// </summary>
    public static byte[] PngClaiming(int width, int height)
    {
        using var output = new MemoryStream();
        output.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8;  // bit depth
        header[9] = 2;  // colour type: RGB
        Chunk(output, "IHDR", header);
        using (var row = new MemoryStream())
        {
            using (var zlib = new ZLibStream(row, CompressionLevel.Fastest, leaveOpen: true)) zlib.Write(new byte[1 + 3 * Math.Min(width, 1 << 16)]);
            Chunk(output, "IDAT", row.ToArray());
        }
        Chunk(output, "IEND", []);
        return output.ToArray();
    }

    private static void Chunk(Stream output, string type, byte[] data)
    {
        var buffer = new byte[8 + data.Length + 4];
        BinaryPrimitives.WriteInt32BigEndian(buffer, data.Length);
        System.Text.Encoding.ASCII.GetBytes(type).CopyTo(buffer, 4);
        data.CopyTo(buffer, 8);
        BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(8 + data.Length), Crc32(buffer.AsSpan(4, 4 + data.Length)));
        output.Write(buffer);
    }

    /// <summary>The CRC-32 of PNG chunks and zip (ISO 3309, reflected polynomial 0xEDB88320).</summary>
    public static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        return ~crc;
    }
}

/// <summary>
/// An in-memory dataset for loader tests: sample i is a C x H x W image filled with i / 1000 and labelled i mod
/// classes. Chosen samples can fail like a corrupt file, and every Load is counted, so tests can see when workers stop.
/// </summary>
internal sealed class FakeDataset(int count, int classes = 3, int channels = 1, int size = 4) : IImageDataset
{
    private int _loads;

    public HashSet<int> Bad { get; init; } = [];
    public BadDataPolicy Policy { get; init; } = BadDataPolicy.Fail;
    public Dictionary<int, int> OddSize { get; init; } = []; // index -> side length different from size
    public TimeSpan Delay { get; init; } = TimeSpan.Zero;

    public int Loads => Volatile.Read(ref _loads);

    /// <summary>Every thread that loaded a sample, so a test can check that a loader's workers have ended.</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<Thread, bool> Loaders { get; } = new();
    public int Count => count;
    public IReadOnlyList<string> Classes { get; } = Enumerable.Range(0, classes).Select(c => $"class{c}").ToArray();
    public int LabelOf(int index) => index % classes;
    public string Describe(int index) => $"fake-{index}.png";
    public SampleGeometry Geometry => OddSize.Count == 0 ? new(channels, size, size) : new(channels, null, null);

    public ImageData Load(int index)
    {
        Interlocked.Increment(ref _loads);
        Loaders.TryAdd(Thread.CurrentThread, true);
        if (Delay > TimeSpan.Zero) Thread.Sleep(Delay);
        if (Bad.Contains(index)) throw new BadSampleException(Describe(index), "not a decodable image", Policy);
        int side = OddSize.TryGetValue(index, out int odd) ? odd : size;
        var pixels = new float[channels * side * side];
        Array.Fill(pixels, index / 1000f);
        return new ImageData(pixels, channels, side, side);
    }
}
