namespace Cnn.Zoo.Analysis;

/// <summary>
/// Output-size arithmetic of convolutions and pooling windows: floor((n + 2p - d(f - 1) - 1) / s) + 1 per side,
/// which is floor((n + 2p - f) / s) + 1 without dilation (Dumoulin &amp; Visin, "A guide to convolution arithmetic", 2016).
/// </summary>
public static class ConvArithmetic
{
    /// <summary>Output length of one spatial side; <paramref name="ceilMode"/> rounds up instead of down (pooling
    /// layers with <c>ceil_mode=True</c>).</summary>
    public static long OutputSize(long input, long kernel, long stride = 1, long padding = 0, long dilation = 1,
                                  bool ceilMode = false)
    {
        if (input < 1) throw new ArgumentOutOfRangeException(nameof(input), input, "expected an input side of at least 1");
        if (kernel < 1) throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "expected a kernel of at least 1");
        if (stride < 1) throw new ArgumentOutOfRangeException(nameof(stride), stride, "expected a stride of at least 1");
        if (padding < 0) throw new ArgumentOutOfRangeException(nameof(padding), padding, "expected padding of at least 0");
        if (dilation < 1) throw new ArgumentOutOfRangeException(nameof(dilation), dilation, "expected a dilation of at least 1");
        long span = input + 2 * padding - dilation * (kernel - 1) - 1;
        if (span < 0)
            throw new ArgumentException(
                $"a {kernel}x{kernel} window (dilation {dilation}) does not fit an input side of {input} with padding {padding}");
        long output = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1;
        // As in PyTorch: with ceil_mode the last window must start inside the input or its left padding.
        if (ceilMode && (output - 1) * stride >= input + padding) output--;
        return output;
    }

    /// <summary>Output (height, width) of a square window applied to an input of (height, width).</summary>
    public static (long Height, long Width) OutputSize((long Height, long Width) input, long kernel, long stride = 1,
                                                       long padding = 0, long dilation = 1, bool ceilMode = false)
        => (OutputSize(input.Height, kernel, stride, padding, dilation, ceilMode),
            OutputSize(input.Width, kernel, stride, padding, dilation, ceilMode));

    /// <summary>"Same" padding at stride 1: (f - 1) / 2 keeps the side unchanged. Defined for odd kernels only.</summary>
    public static long SamePadding(long kernel, long dilation = 1)
    {
        long effective = dilation * (kernel - 1) + 1;
        if (effective % 2 == 0)
            throw new ArgumentException($"'same' padding needs an odd effective kernel, found {effective}");
        return (effective - 1) / 2;
    }

    /// <summary>"Valid" padding: none.</summary>
    public const long ValidPadding = 0;

    /// <summary>
    /// Multiply-accumulates of one convolution for one image, on paper: every output value costs
    /// (C_in / groups) x f x f, so H_out x W_out x C_out x (C_in / groups) x f x f in all (bias additions not counted).
    /// The course notes' Inception example (see <see cref="Layers.Conv1x1"/>): a 5x5 convolution from 28x28x192 to
    /// 32 channels costs 28*28*32*5*5*192 = 120,422,400; a 1x1 to 16 channels and then the 5x5 cost
    /// 2,408,448 + 10,035,200 = 12,443,648. <see cref="ModelSummary"/> measures the same count on a real forward pass.
    /// </summary>
    public static long MultiplyAccumulates((long Height, long Width) output, long outChannels, long inChannels, long kernel,
                                           long groups = 1)
    {
        if (groups < 1 || inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"channels ({inChannels} in, {outChannels} out) must be divisible by groups ({groups})");
        return output.Height * output.Width * outChannels * (inChannels / groups) * kernel * kernel;
    }
}
