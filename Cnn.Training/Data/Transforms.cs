using System.Globalization;
using Cnn.Zoo;

namespace Cnn.Training.Data;

/// <summary>
/// torchvision.transforms equivalents on float CHW images. Geometry follows torchvision's arithmetic (output sizes,
/// crop offsets, RandomResizedCrop's sampling); random draws use <see cref="Random"/>, so the crops drawn differ
/// from torchvision's for the same seed while following the same distribution.
/// </summary>
public static class Transforms
{
    /// <summary>The steps in order; the same generator is passed along, so each step's draws follow the previous step's.</summary>
    public static ITransform Compose(params ITransform[] steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        for (int i = 0; i < steps.Length; i++)
        {
            if (steps[i] is null) throw new ArgumentNullException(nameof(steps), $"step {i} of Compose is null");
        }
        return new ComposeTransform([.. steps]);
    }

    /// <summary>Bilinear resize so the shorter side is <paramref name="shorterSide"/>, keeping the aspect ratio (torchvision <c>Resize(int)</c>).</summary>
    public static ITransform Resize(int shorterSide)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shorterSide, 1);
        return new ResizeTransform(shorterSide);
    }

    /// <summary>Bilinear resize to exactly height x width (torchvision <c>Resize((h, w))</c>).</summary>
    public static ITransform ResizeExact(int height, int width)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        return new ResizeExactTransform(height, width);
    }

    /// <summary>The central height x width window; an image smaller than that is zero-padded around (torchvision <c>CenterCrop</c>).</summary>
    public static ITransform CenterCrop(int height, int width)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        return new CenterCropTransform(height, width);
    }

    /// <summary>
    /// Inception-style crop (Szegedy et al., "Going Deeper with Convolutions", CVPR 2015, section 6): a window of
    /// random area fraction in [minScale, maxScale] and aspect ratio log-uniform in [3/4, 4/3], resized to
    /// size x size. Ten tries, then the central crop clamped to the ratio range, as torchvision does.
    /// </summary>
    public static ITransform RandomResizedCrop(int size, double minScale = 0.08, double maxScale = 1.0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        if (!(minScale > 0 && minScale <= maxScale))
            throw new ArgumentOutOfRangeException(nameof(minScale), $"expected 0 < minScale <= maxScale; found {minScale} and {maxScale}");
        return new RandomResizedCropTransform(size, minScale, maxScale);
    }

    /// <summary>
    /// Zero-pads every side by <paramref name="padding"/>, then takes a random size x size window: the CIFAR
    /// augmentation of He et al., "Deep Residual Learning for Image Recognition", CVPR 2016, section 4.2 (32 + 4 + 4, crop 32).
    /// </summary>
    public static ITransform RandomCrop(int size, int padding)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        return new RandomCropTransform(size, padding);
    }

    /// <summary>Zero-pads every side, e.g. MNIST 28 x 28 to the 32 x 32 input of LeNet-5 (LeCun et al., Proc. IEEE 1998, section II.B).</summary>
    public static ITransform Pad(int padding)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        return new PadTransform(padding);
    }

    /// <summary>Mirrors left-right with probability <paramref name="p"/>; one draw per image whatever p is.</summary>
    public static ITransform HorizontalFlip(double p = 0.5)
    {
        if (!(p >= 0 && p <= 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "expected a probability in [0, 1]");
        return new HorizontalFlipTransform(p);
    }

    /// <summary>Repeats a grey channel three times so grey data fits RGB models; a 3-channel image passes unchanged.</summary>
    public static ITransform GreyToRgb() => new GreyToRgbTransform();

    /// <summary>
    /// Fits an image to a model's channel count, as the data set's colour mode would have: grey repeated to RGB, RGB
    /// reduced to PIL's grey level (<c>convert("L")</c>, ITU-R BT.601 weights on the image's bytes), an image that
    /// already has <paramref name="channels"/> unchanged. So grey digits saved as RGB PNGs train a 1-channel LeNet-5 on
    /// exactly the values the IDX files hold. Place it first, on the decoded bytes / 255.
    /// </summary>
    public static ITransform ToChannels(int channels)
    {
        if (channels is not (1 or 3))
            throw new ArgumentOutOfRangeException(nameof(channels), channels, "expected 1 (grey) or 3 (RGB) channels");
        return new ToChannelsTransform(channels);
    }

    /// <summary><c>(x - mean[c]) / std[c]</c> per channel (torchvision <c>Normalize</c>).</summary>
    public static ITransform Normalize(float[] mean, float[] std)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        if (mean.Length == 0 || mean.Length != std.Length)
            throw new ArgumentException($"Normalize needs one mean and one std per channel; found {mean.Length} mean(s) and {std.Length} std(s)");
        if (std.Any(s => !(s > 0) || float.IsInfinity(s)))
            throw new ArgumentException($"Normalize needs positive finite stds; found [{Format(std)}]", nameof(std));
        return new NormalizeTransform([.. mean], [.. std]);
    }

    /// <summary>The normalisation of <paramref name="preprocessing"/>: its mean and std per channel, in float32 as
    /// torchvision's <c>Normalize</c> computes them.</summary>
    public static ITransform Normalize(Preprocessing preprocessing)
    {
        ArgumentNullException.ThrowIfNull(preprocessing);
        return Normalize([.. preprocessing.Mean.Select(m => (float)m)], [.. preprocessing.Std.Select(s => (float)s)]);
    }

    internal static string Format(float[] values) => string.Join(", ", values.Select(v => v.ToString(CultureInfo.InvariantCulture)));

    private sealed class ComposeTransform(ITransform[] steps) : ITransform
    {
        public ImageData Apply(ImageData image, Random rng)
        {
            foreach (var step in steps) image = step.Apply(image, rng);
            return image;
        }

        public override string ToString() => $"Compose({string.Join(", ", steps.Select(s => s.ToString()))})";
    }

    private sealed class ResizeTransform(int shorterSide) : ITransform
    {
        public ImageData Apply(ImageData image, Random rng)
        {
            var (height, width) = OutputSize(image.Height, image.Width, shorterSide);
            return height == image.Height && width == image.Width
                ? image
                : ImageOps.ResizeBilinear(image, 0, 0, image.Height, image.Width, height, width);
        }

        /// <summary>torchvision's <c>_compute_resized_output_size</c>: the longer side is truncated, not rounded.</summary>
        public static (int Height, int Width) OutputSize(int height, int width, int shorterSide)
        {
            int shorter = Math.Min(height, width), longer = Math.Max(height, width);
            int newLonger = (int)((double)((long)shorterSide * longer) / shorter);
            return width <= height ? (newLonger, shorterSide) : (shorterSide, newLonger);
        }

        public override string ToString() => $"Resize({shorterSide})";
    }

    private sealed class ResizeExactTransform(int height, int width) : ITransform
    {
        public ImageData Apply(ImageData image, Random rng) =>
            height == image.Height && width == image.Width
                ? image
                : ImageOps.ResizeBilinear(image, 0, 0, image.Height, image.Width, height, width);

        public override string ToString() => $"ResizeExact({height}x{width})";
    }

    private sealed class CenterCropTransform(int height, int width) : ITransform
    {
        public ImageData Apply(ImageData image, Random rng) =>
            ImageOps.CropWithZeros(image, Offset(image.Height, height), Offset(image.Width, width), height, width);

        /// <summary>
        /// torchvision rounds <c>(in - crop) / 2</c> half to even (Python's round); when the crop is larger it pads
        /// <c>(crop - in) // 2</c> before, i.e. the window starts at minus that.
        /// </summary>
        private static int Offset(int size, int crop) =>
            crop <= size ? (int)Math.Round((size - crop) / 2.0, MidpointRounding.ToEven) : -((crop - size) / 2);

        public override string ToString() => $"CenterCrop({height}x{width})";
    }

    private sealed class RandomResizedCropTransform(int size, double minScale, double maxScale) : ITransform
    {
        private static readonly double LogMinRatio = Math.Log(3.0 / 4.0), LogMaxRatio = Math.Log(4.0 / 3.0);

        public ImageData Apply(ImageData image, Random rng)
        {
            var (top, left, height, width) = Window(image.Height, image.Width, rng);
            return ImageOps.ResizeBilinear(image, top, left, height, width, size, size);
        }

        /// <summary>torchvision's <c>RandomResizedCrop.get_params</c>.</summary>
        private (int Top, int Left, int Height, int Width) Window(int imageHeight, int imageWidth, Random rng)
        {
            double area = (double)imageHeight * imageWidth;
            for (int attempt = 0; attempt < 10; attempt++)
            {
                double targetArea = area * (minScale + (maxScale - minScale) * rng.NextDouble());
                double aspect = Math.Exp(LogMinRatio + (LogMaxRatio - LogMinRatio) * rng.NextDouble());
                int w = (int)Math.Round(Math.Sqrt(targetArea * aspect), MidpointRounding.ToEven);
                int h = (int)Math.Round(Math.Sqrt(targetArea / aspect), MidpointRounding.ToEven);
                if (w > 0 && w <= imageWidth && h > 0 && h <= imageHeight)
                {
                    int top = rng.Next(imageHeight - h + 1);
                    int left = rng.Next(imageWidth - w + 1);
                    return (top, left, h, w);
                }
            }
            // Fallback: the whole image, trimmed to the nearest allowed aspect ratio, centred.
            double ratio = (double)imageWidth / imageHeight;
            int fw = imageWidth, fh = imageHeight;
            if (ratio < 3.0 / 4.0) fh = (int)Math.Round(fw / (3.0 / 4.0), MidpointRounding.ToEven);
            else if (ratio > 4.0 / 3.0) fw = (int)Math.Round(fh * (4.0 / 3.0), MidpointRounding.ToEven);
            fh = Math.Min(fh, imageHeight);
            fw = Math.Min(fw, imageWidth);
            return ((imageHeight - fh) / 2, (imageWidth - fw) / 2, fh, fw);
        }

        public override string ToString() =>
            string.Create(CultureInfo.InvariantCulture, $"RandomResizedCrop({size}, scale=({minScale}, {maxScale}), ratio=(3/4, 4/3))");
    }

    private sealed class RandomCropTransform(int size, int padding) : ITransform
    {
        public ImageData Apply(ImageData image, Random rng)
        {
            int paddedHeight = image.Height + 2 * padding, paddedWidth = image.Width + 2 * padding;
            if (paddedHeight < size || paddedWidth < size)
                throw new ArgumentException(
                    $"{this} needs an image of at least {size - 2 * padding}x{size - 2 * padding} pixels; found {image}");
            // torchvision draws nothing when the padded image is exactly the crop size.
            int top = paddedHeight == size ? 0 : rng.Next(paddedHeight - size + 1);
            int left = paddedWidth == size ? 0 : rng.Next(paddedWidth - size + 1);
            return ImageOps.CropWithZeros(image, top - padding, left - padding, size, size);
        }

        public override string ToString() => $"RandomCrop({size}, padding={padding})";
    }

    private sealed class PadTransform(int padding) : ITransform
    {
        public ImageData Apply(ImageData image, Random rng) =>
            padding == 0
                ? image
                : ImageOps.CropWithZeros(image, -padding, -padding, image.Height + 2 * padding, image.Width + 2 * padding);

        public override string ToString() => $"Pad({padding})";
    }

    private sealed class HorizontalFlipTransform(double p) : ITransform
    {
        public ImageData Apply(ImageData image, Random rng) =>
            rng.NextDouble() < p ? ImageOps.FlipHorizontal(image) : image;

        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"HorizontalFlip(p={p})");
    }

    private sealed class GreyToRgbTransform : ITransform
    {
        public ImageData Apply(ImageData image, Random rng)
        {
            if (image.Channels == 3) return image;
            if (image.Channels != 1)
                throw new ArgumentException($"GreyToRgb expects 1 (or 3) channels; found {image}");
            return RepeatGrey(image);
        }

        public override string ToString() => "GreyToRgb()";
    }

    private static ImageData RepeatGrey(ImageData image)
    {
        int plane = image.PlaneSize;
        var rgb = new float[3 * plane];
        for (int c = 0; c < 3; c++) Array.Copy(image.Pixels, 0, rgb, c * plane, plane);
        return new ImageData(rgb, 3, image.Height, image.Width);
    }

    private sealed class ToChannelsTransform(int channels) : ITransform
    {
        public ImageData Apply(ImageData image, Random rng) => (image.Channels, channels) switch
        {
            var (have, want) when have == want => image,
            (1, 3) => RepeatGrey(image),
            (3, 1) => Luma(image),
            _ => throw new ArgumentException($"{this} converts 1- or 3-channel images; found {image} (C x H x W)"),
        };

        private static ImageData Luma(ImageData image)
        {
            int plane = image.PlaneSize;
            var src = image.Pixels;
            var grey = new float[plane];
            var scale = DataFiles.UnitScale;
            for (int i = 0; i < plane; i++)
            {
                byte luma = ColorModes.Luma(ColorModes.ToByte(src[i]), ColorModes.ToByte(src[plane + i]), ColorModes.ToByte(src[2 * plane + i]));
                grey[i] = scale[luma];
            }
            return new ImageData(grey, 1, image.Height, image.Width);
        }

        public override string ToString() => $"ToChannels({channels})";
    }

    private sealed class NormalizeTransform(float[] mean, float[] std) : ITransform
    {
        public ImageData Apply(ImageData image, Random rng)
        {
            if (image.Channels != mean.Length)
                throw new ArgumentException(
                    $"{this} has statistics for {mean.Length} channel(s) but the image is {image} (C x H x W)" +
                    (image.Channels == 1 && mean.Length == 3 ? "; add ToChannels(3) or GreyToRgb() before Normalize for an RGB model" : ""));
            int plane = image.PlaneSize;
            var src = image.Pixels;
            var dst = new float[src.Length];
            for (int c = 0; c < mean.Length; c++)
            {
                float m = mean[c], s = std[c];
                ReadOnlySpan<float> from = src.AsSpan(c * plane, plane);
                Span<float> to = dst.AsSpan(c * plane, plane);
                for (int i = 0; i < from.Length; i++) to[i] = (from[i] - m) / s;
            }
            return new ImageData(dst, image.Channels, image.Height, image.Width);
        }

        public override string ToString() => $"Normalize(mean=[{Format(mean)}], std=[{Format(std)}])";
    }
}
