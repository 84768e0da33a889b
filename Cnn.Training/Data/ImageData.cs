namespace Cnn.Training.Data;

/// <summary>
/// A decoded image as float32 in channel-major (CHW) order, the layout a batch tensor has, so batching is a block copy.
/// Readers produce values in [0, 1] (byte / 255, as torchvision's <c>ToTensor</c>); <see cref="Transforms.Normalize(float[], float[])"/>
/// shifts them afterwards. Transforms treat an instance as immutable and return a new one.
/// </summary>
public sealed class ImageData
{
    public ImageData(float[] pixels, int channels, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        if (channels < 1 || height < 1 || width < 1)
            throw new ArgumentException($"image dimensions must be positive; found {channels}x{height}x{width} (C x H x W)");
        if ((long)channels * height * width != pixels.Length)
            throw new ArgumentException(
                $"a {channels}x{height}x{width} (C x H x W) image needs {(long)channels * height * width} values; found {pixels.Length}",
                nameof(pixels));
        Pixels = pixels;
        Channels = channels;
        Height = height;
        Width = width;
    }

    public float[] Pixels { get; }
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }

    /// <summary>Values per channel plane (H * W).</summary>
    public int PlaneSize => Height * Width;

    /// <summary>True when <paramref name="other"/> has the same C, H and W, i.e. both fit in one batch tensor.</summary>
    public bool SameShape(ImageData other) => Channels == other.Channels && Height == other.Height && Width == other.Width;

    /// <summary>The shape as error messages print it: <c>3x224x224</c> (C x H x W).</summary>
    public override string ToString() => $"{Channels}x{Height}x{Width}";
}
