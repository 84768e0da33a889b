using static TorchSharp.torch;

namespace Cnn.Zoo.Models;

/// <summary>What a model accepts: channels, the size it was designed for, and the smallest size it can take.</summary>
/// <param name="Channels">Input channels (1 for grey digits, 3 for RGB).</param>
/// <param name="Height">Default input height (the architecture's standard size).</param>
/// <param name="Width">Default input width.</param>
/// <param name="MinHeight">Smallest height that survives every stride and pooling window.</param>
/// <param name="MinWidth">Smallest width that survives every stride and pooling window.</param>
/// <param name="FixedSize">True when the head has no adaptive pooling, so only the default size works.</param>
public sealed record InputSpec(int Channels, int Height, int Width, int MinHeight, int MinWidth, bool FixedSize = false)
{
    /// <summary>The default input as a shape without the batch dimension: [C, H, W].</summary>
    public long[] DefaultShape => [Channels, Height, Width];

    /// <summary>
    /// Checks a square input side a caller chose (<c>--input-size</c>) before any work: an
    /// <see cref="InvalidChoiceException"/> that says what the model accepts when <paramref name="side"/> does not fit.
    /// </summary>
    public int RequireSide(int side, string model, string option = "--input-size")
    {
        if (FixedSize ? side == Height && side == Width : side >= MinHeight && side >= MinWidth) return side;
        throw new InvalidChoiceException(FixedSize
            ? $"{option} {side}: {model} takes only {Height} x {Width} images"
            : $"{option} {side}: {model} needs images of at least {Math.Max(MinHeight, MinWidth)} x {Math.Max(MinHeight, MinWidth)} (its standard size is {Height} x {Width})");
    }

    /// <summary>Throws an <see cref="ArgumentException"/> that names the expected shape when <paramref name="x"/> does not fit.</summary>
    public void Validate(Tensor x, string model)
    {
        string expected = FixedSize
            ? $"N x {Channels} x {Height} x {Width}"
            : $"N x {Channels} x H x W with H >= {MinHeight} and W >= {MinWidth} (default {Height} x {Width})";
        string found = "[" + string.Join(", ", x.shape) + "]";
        if (x.dim() != 4)
            throw new ArgumentException($"{model} expects a 4-D batch {expected}; found a {x.dim()}-D tensor {found}");
        if (x.shape[1] != Channels)
            throw new ArgumentException($"{model} expects {Channels} input channel(s) ({expected}); found {x.shape[1]} in {found}");
        bool sizeOk = FixedSize
            ? x.shape[2] == Height && x.shape[3] == Width
            : x.shape[2] >= MinHeight && x.shape[3] >= MinWidth;
        if (!sizeOk)
            throw new ArgumentException($"{model} expects {expected}; found {found}");
    }
}
