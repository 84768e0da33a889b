namespace Cnn.Training.Data;

/// <summary>The pixel loops behind <see cref="Transforms"/>: whole-row passes over float CHW arrays, one output allocation each.</summary>
internal static class ImageOps
{
    /// <summary>
    /// Bilinear resampling of the window (top, left, height, width) of <paramref name="image"/> to outHeight x outWidth,
    /// with PyTorch's <c>upsample_bilinear2d</c> arithmetic for <c>align_corners=False</c>: source coordinate
    /// <c>(dst + 0.5) * in / out - 0.5</c>, clamped at 0, neighbours clamped inside the window. Resampling a window
    /// equals cropping it first, as torchvision's <c>resized_crop</c> does, without the intermediate copy.
    /// There is no antialiasing (torchvision's <c>antialias=False</c>); large downscales therefore alias.
    /// </summary>
    public static ImageData ResizeBilinear(ImageData image, int top, int left, int height, int width, int outHeight, int outWidth)
    {
        if (top < 0 || left < 0 || height < 1 || width < 1 || top + height > image.Height || left + width > image.Width)
            throw new ArgumentException($"resize window {height}x{width} at ({top}, {left}) does not lie inside a {image} image");
        if (outHeight < 1 || outWidth < 1)
            throw new ArgumentException($"resize target must be positive; found {outHeight}x{outWidth}");

        var (y0, y1, wy0, wy1) = LinearTaps(height, outHeight, top);
        var (x0, x1, wx0, wx1) = LinearTaps(width, outWidth, left);
        int inPlane = image.PlaneSize, outPlane = outHeight * outWidth, inWidth = image.Width;
        var src = image.Pixels;
        var dst = new float[image.Channels * outPlane];
        for (int c = 0; c < image.Channels; c++)
        {
            int inBase = c * inPlane, outBase = c * outPlane;
            for (int oy = 0; oy < outHeight; oy++)
            {
                int rowA = inBase + y0[oy] * inWidth, rowB = inBase + y1[oy] * inWidth;
                float ha = wy0[oy], hb = wy1[oy];
                var outRow = dst.AsSpan(outBase + oy * outWidth, outWidth);
                for (int ox = 0; ox < outRow.Length; ox++)
                {
                    int a = x0[ox], b = x1[ox];
                    float wa = wx0[ox], wb = wx1[ox];
                    outRow[ox] = ha * (wa * src[rowA + a] + wb * src[rowA + b]) + hb * (wa * src[rowB + a] + wb * src[rowB + b]);
                }
            }
        }
        return new ImageData(dst, image.Channels, outHeight, outWidth);
    }

    /// <summary>Per output position: the two source indices (offset by <paramref name="start"/>) and their weights.</summary>
    private static (int[] I0, int[] I1, float[] W0, float[] W1) LinearTaps(int inSize, int outSize, int start)
    {
        var i0 = new int[outSize];
        var i1 = new int[outSize];
        var w0 = new float[outSize];
        var w1 = new float[outSize];
        float scale = (float)inSize / outSize;
        for (int o = 0; o < outSize; o++)
        {
            float real = Math.Max(scale * (o + 0.5f) - 0.5f, 0f);
            int index = Math.Min((int)real, inSize - 1);
            float lambda = Math.Clamp(real - index, 0f, 1f);
            i0[o] = start + index;
            i1[o] = start + index + (index < inSize - 1 ? 1 : 0);
            w0[o] = 1f - lambda;
            w1[o] = lambda;
        }
        return (i0, i1, w0, w1);
    }

    /// <summary>
    /// The height x width window whose top-left corner is (top, left), which may reach outside the image: those pixels
    /// are 0 (torchvision's constant padding with fill 0). Crop, pad and padded random crop are all this one copy.
    /// </summary>
    public static ImageData CropWithZeros(ImageData image, int top, int left, int height, int width)
    {
        if (height < 1 || width < 1) throw new ArgumentException($"crop size must be positive; found {height}x{width}");
        var src = image.Pixels;
        var dst = new float[image.Channels * height * width];
        // Rows and columns of the window that overlap the image.
        int yFrom = Math.Max(0, -top), yTo = Math.Min(height, image.Height - top);
        int xFrom = Math.Max(0, -left), xTo = Math.Min(width, image.Width - left);
        if (yFrom < yTo && xFrom < xTo)
        {
            for (int c = 0; c < image.Channels; c++)
            {
                for (int y = yFrom; y < yTo; y++)
                {
                    int from = c * image.PlaneSize + (top + y) * image.Width + left + xFrom;
                    int to = (c * height + y) * width + xFrom;
                    Array.Copy(src, from, dst, to, xTo - xFrom);
                }
            }
        }
        return new ImageData(dst, image.Channels, height, width);
    }

    public static ImageData FlipHorizontal(ImageData image)
    {
        var dst = new float[image.Pixels.Length];
        int width = image.Width;
        for (int row = 0; row < image.Channels * image.Height; row++)
        {
            var from = image.Pixels.AsSpan(row * width, width);
            var to = dst.AsSpan(row * width, width);
            from.CopyTo(to);
            to.Reverse();
        }
        return new ImageData(dst, image.Channels, image.Height, width);
    }
}
