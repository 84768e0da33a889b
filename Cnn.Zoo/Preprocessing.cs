using System.Globalization;

namespace Cnn.Zoo;

/// <summary>
/// How an image is prepared for a model at evaluation time, as torchvision's <c>ImageClassification</c> preset does
/// it for its published weights: resize the shorter side to <see cref="ResizeSize"/>, take the central
/// <see cref="CropSize"/> x <see cref="CropSize"/> window, scale pixels to [0, 1], then <c>(x - mean) / std</c> per
/// channel. This is also the one home of ImageNet's channel statistics (<see cref="ImageNetMean"/>,
/// <see cref="ImageNetStd"/>), which every torchvision ImageNet model and GoogLeNet's input transform use.
/// </summary>
public sealed record Preprocessing
{
    /// <summary>ImageNet's RGB channel means on [0, 1] pixels, as torchvision publishes them.</summary>
    public static IReadOnlyList<double> ImageNetMean { get; } = [0.485, 0.456, 0.406];

    /// <summary>ImageNet's RGB channel standard deviations on [0, 1] pixels.</summary>
    public static IReadOnlyList<double> ImageNetStd { get; } = [0.229, 0.224, 0.225];

    /// <summary>torchvision's default for ImageNet weights: shorter side 256, centre crop 224, ImageNet mean/std,
    /// bilinear. Used for a weights file that no catalog entry describes.</summary>
    public static Preprocessing ImageNet { get; } = new(256, 224, ImageNetMean, ImageNetStd);

    /// <param name="resizeSize">Shorter side after resizing, in pixels.</param>
    /// <param name="cropSize">Side of the square centre crop; at most <paramref name="resizeSize"/>.</param>
    /// <param name="mean">One mean per channel, on [0, 1] pixels.</param>
    /// <param name="std">One positive standard deviation per channel.</param>
    /// <param name="interpolation">The resize's interpolation, as torchvision names it (<c>bilinear</c>).</param>
    public Preprocessing(int resizeSize, int cropSize, IReadOnlyList<double> mean, IReadOnlyList<double> std,
                         string interpolation = "bilinear")
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        ArgumentNullException.ThrowIfNull(interpolation);
        if (cropSize < 1 || resizeSize < cropSize)
            throw new InvalidChoiceException($"preprocessing: expected 1 <= crop size <= resize size; found resize {resizeSize}, crop {cropSize}");
        if (mean.Count == 0 || mean.Count != std.Count)
            throw new InvalidChoiceException($"preprocessing: expected one mean and one std per channel; found {mean.Count} mean(s) and {std.Count} std(s)");
        if (std.Any(s => !(s > 0) || !double.IsFinite(s)) || mean.Any(m => !double.IsFinite(m)))
            throw new InvalidChoiceException($"preprocessing: expected finite means and positive finite stds; found mean [{Format(mean)}], std [{Format(std)}]");
        ResizeSize = resizeSize;
        CropSize = cropSize;
        Mean = [.. mean];
        Std = [.. std];
        Interpolation = interpolation;
    }

    /// <summary>Shorter side after resizing.</summary>
    public int ResizeSize { get; }

    /// <summary>Side of the square centre crop: the model's input size.</summary>
    public int CropSize { get; }

    /// <summary>Per-channel means, on [0, 1] pixels.</summary>
    public IReadOnlyList<double> Mean { get; }

    /// <summary>Per-channel standard deviations, on [0, 1] pixels.</summary>
    public IReadOnlyList<double> Std { get; }

    /// <summary>Interpolation of the resize, torchvision's name for it.</summary>
    public string Interpolation { get; }

    /// <summary>
    /// Square images of the crop size, or at most <see cref="PadLimit"/> pixels smaller (an even gap), get a zero
    /// border up to the crop size instead of a resize, as LeNet-5's paper padded MNIST's 28-pixel digits to 32. Other
    /// images are resized and cropped as usual. Set by train for small data sets; published weights never pad.
    /// </summary>
    public bool PadSmallSquares { get; init; }

    /// <summary>The largest gap, in pixels, that <see cref="PadSmallSquares"/> fills with a border.</summary>
    public const int PadLimit = 8;

    /// <summary>The zero border each side that fits a <paramref name="height"/> x <paramref name="width"/> image to the
    /// crop size (0: it is the crop size), or null where the image is resized instead.</summary>
    public int? PaddingFor(int height, int width)
    {
        if (!PadSmallSquares || height != width) return null;
        int gap = CropSize - height;
        return gap == 0 || gap > 0 && gap <= PadLimit && gap % 2 == 0 ? gap / 2 : null;
    }

    /// <summary>The same preprocessing for another crop size: the resize scales with it (256 / 224 stays 256 / 224),
    /// the statistics stay.</summary>
    public Preprocessing WithCropSize(int cropSize)
        => cropSize == CropSize ? this
           : new Preprocessing(Math.Max((int)Math.Round((double)cropSize * ResizeSize / CropSize), cropSize), cropSize, Mean, Std, Interpolation)
           {
               PadSmallSquares = PadSmallSquares,
           };

    public bool Equals(Preprocessing? other)
        => other is not null && ResizeSize == other.ResizeSize && CropSize == other.CropSize
           && Mean.SequenceEqual(other.Mean) && Std.SequenceEqual(other.Std) && Interpolation == other.Interpolation
           && PadSmallSquares == other.PadSmallSquares;

    public override int GetHashCode() => HashCode.Combine(ResizeSize, CropSize, Mean.Count > 0 ? Mean[0] : 0, Interpolation);

    public override string ToString()
        => (PadSmallSquares ? $"squares up to {PadLimit} px smaller padded to {CropSize}, others " : "")
           + $"resize {ResizeSize} ({Interpolation}), centre crop {CropSize}, mean [{Format(Mean)}], std [{Format(Std)}]";

    static string Format(IEnumerable<double> values) => string.Join(", ", values.Select(v => v.ToString(CultureInfo.InvariantCulture)));
}
