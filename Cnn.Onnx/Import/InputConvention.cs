using Cnn.Zoo;
using static TorchSharp.torch;

namespace Cnn.Onnx.Import;

/// <summary>
/// What a network expects as input, relative to an RGB image with values 0-255: input channel <c>k</c> is
/// <c>(pixel[ChannelOrder[k]] - Mean[k]) / Std[k]</c>, with <c>pixel[0..2]</c> = R, G, B.
/// </summary>
/// <param name="Name">For messages, e.g. <c>torchvision</c>.</param>
/// <param name="ChannelOrder">Which RGB channel feeds each input channel: [0, 1, 2] for RGB, [2, 1, 0] for BGR.</param>
/// <param name="Mean">Subtracted from each input channel, in 0-255 units.</param>
/// <param name="Std">Divides each input channel, in 0-255 units.</param>
public sealed record InputConvention(string Name, IReadOnlyList<int> ChannelOrder, IReadOnlyList<double> Mean, IReadOnlyList<double> Std)
{
    /// <summary>torchvision's ImageNet normalisation, <c>(x / 255 - mean) / std</c> on RGB.</summary>
    public static InputConvention TorchVision { get; } = new("torchvision",
        [0, 1, 2], [.. Preprocessing.ImageNetMean.Select(m => m * 255)], [.. Preprocessing.ImageNetStd.Select(s => s * 255)]);

    /// <summary>BGR pixels minus a per-channel mean, no scaling (Caffe/CNTK style); means given in B, G, R order.</summary>
    public static InputConvention BgrMinusMean(string name, double blue, double green, double red)
        => new(name, [2, 1, 0], [blue, green, red], [1, 1, 1]);

    /// <summary>Converts an N x 3 x H x W RGB batch with values 0-255 into this convention.</summary>
    public Tensor FromRgb255(Tensor rgb)
    {
        Validate();
        using var scope = NewDisposeScope();
        var order = tensor(ChannelOrder.Select(c => (long)c).ToArray());
        var mean = tensor(Mean.ToArray(), dtype: rgb.dtype).view(1, 3, 1, 1);
        var std = tensor(Std.ToArray(), dtype: rgb.dtype).view(1, 3, 1, 1);
        return rgb.index_select(1, order).sub(mean).div(std).MoveToOuterDisposeScope();
    }

    internal void Validate()
    {
        if (ChannelOrder.Count != 3 || !ChannelOrder.Order().SequenceEqual([0, 1, 2]))
            throw new ArgumentException($"input convention '{Name}': channel order must be a permutation of [0, 1, 2], found [{string.Join(", ", ChannelOrder)}]");
        if (Mean.Count != 3 || Std.Count != 3 || Std.Any(s => s == 0 || !double.IsFinite(s)))
            throw new ArgumentException($"input convention '{Name}': expected three means and three finite, non-zero stds");
    }
}

