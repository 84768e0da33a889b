namespace Cnn.Zoo.Analysis;

/// <summary>
/// Plain-loop reference implementations of the operations a CNN is built from, written to be read, not to be fast.
/// Convolution here is cross-correlation, as in every deep-learning library: the filter is not flipped.
/// Arrays are [channel, row, column] for images and [filter, channel, row, column] for filter banks.
/// Tests check these against libtorch, so they double as an executable explanation of what libtorch computes.
/// </summary>
public static class ReferenceOps
{
    /// <summary>
    /// Multi-channel 2-D cross-correlation: each of the K filters spans all C input channels and yields one map;
    /// each filter's single bias is added to every position of its map.
    /// </summary>
    public static float[,,] CrossCorrelate(float[,,] input, float[,,,] filters, float[]? bias = null,
                                           int stride = 1, int padding = 0)
    {
        int channels = input.GetLength(0), height = input.GetLength(1), width = input.GetLength(2);
        int count = filters.GetLength(0), kh = filters.GetLength(2), kw = filters.GetLength(3);
        if (filters.GetLength(1) != channels)
            throw new ArgumentException(
                $"each filter must span all {channels} input channels; found filters with {filters.GetLength(1)}");
        if (bias is not null && bias.Length != count)
            throw new ArgumentException($"expected one bias per filter ({count}); found {bias.Length}");

        int outHeight = (int)ConvArithmetic.OutputSize(height, kh, stride, padding);
        int outWidth = (int)ConvArithmetic.OutputSize(width, kw, stride, padding);
        var output = new float[count, outHeight, outWidth];
        for (int k = 0; k < count; k++)
        for (int row = 0; row < outHeight; row++)
        for (int col = 0; col < outWidth; col++)
        {
            double sum = bias?[k] ?? 0.0;
            for (int c = 0; c < channels; c++)
            for (int i = 0; i < kh; i++)
            for (int j = 0; j < kw; j++)
            {
                int y = row * stride + i - padding, x = col * stride + j - padding;
                if (y >= 0 && y < height && x >= 0 && x < width) sum += input[c, y, x] * filters[k, c, i, j];
            }
            output[k, row, col] = (float)sum;
        }
        return output;
    }

    /// <summary>Max pooling: the largest value of each f x f window, channel by channel (nothing to learn).</summary>
    public static float[,,] MaxPool(float[,,] input, int kernel, int stride) => Pool(input, kernel, stride, isMax: true);

    /// <summary>Average pooling: the mean of each f x f window, channel by channel (nothing to learn).</summary>
    public static float[,,] AvgPool(float[,,] input, int kernel, int stride) => Pool(input, kernel, stride, isMax: false);

    static float[,,] Pool(float[,,] input, int kernel, int stride, bool isMax)
    {
        int channels = input.GetLength(0);
        int outHeight = (int)ConvArithmetic.OutputSize(input.GetLength(1), kernel, stride);
        int outWidth = (int)ConvArithmetic.OutputSize(input.GetLength(2), kernel, stride);
        var output = new float[channels, outHeight, outWidth];
        for (int c = 0; c < channels; c++)
        for (int row = 0; row < outHeight; row++)
        for (int col = 0; col < outWidth; col++)
        {
            double acc = isMax ? double.NegativeInfinity : 0.0;
            for (int i = 0; i < kernel; i++)
            for (int j = 0; j < kernel; j++)
            {
                float v = input[c, row * stride + i, col * stride + j];
                acc = isMax ? Math.Max(acc, v) : acc + v;
            }
            output[c, row, col] = (float)(isMax ? acc : acc / (kernel * kernel));
        }
        return output;
    }

    /// <summary>Zero padding of p on every side: an n x n image becomes (n + 2p) x (n + 2p).</summary>
    public static float[,,] ZeroPad(float[,,] input, int padding)
    {
        int channels = input.GetLength(0), height = input.GetLength(1), width = input.GetLength(2);
        var output = new float[channels, height + 2 * padding, width + 2 * padding];
        for (int c = 0; c < channels; c++)
        for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
            output[c, y + padding, x + padding] = input[c, y, x];
        return output;
    }
}
