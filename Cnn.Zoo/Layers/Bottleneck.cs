using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cnn.Zoo.Layers;

/// <summary>
/// The bottleneck residual block of ResNet-50/101/152 (He et al., 2015): a 1x1 conv reduces the width, a 3x3 conv
/// works at the reduced width, a 1x1 conv expands by 4 (<see cref="Conv1x1"/>); the shortcut is added before the last ReLU.
/// <para>The course notes name its two forms, and so does this class:</para>
/// <list type="bullet">
/// <item><b>identity block</b> (<see cref="IdentityBlock"/>): the shortcut is the input itself; in and out shapes are equal.</item>
/// <item><b>convolutional block</b> (<see cref="ConvolutionalBlock"/>): a 1x1 conv + BN on the shortcut changes the
/// spatial size and/or the channels; it opens every stage.</item>
/// </list>
/// The stride sits on the 3x3 convolution ("ResNet v1.5", as torchvision), not on the first 1x1.
/// <c>groups</c> and <c>baseWidth</c> give ResNeXt (Xie et al., 2017) and Wide ResNet (Zagoruyko &amp; Komodakis, 2016).
/// </summary>
public sealed class Bottleneck : nn.Module<Tensor, Tensor>, IResidualBlock
{
    public const int Expansion = 4;

    // Field order and names are torchvision's, so the state-dict keys are too.
    private readonly Conv2d conv1;
    // Norms are typed as modules, not BatchNorm2d, so inference folding can put an Identity in their place.
    private readonly nn.Module<Tensor, Tensor> bn1;
    private readonly Conv2d conv2;
    private readonly nn.Module<Tensor, Tensor> bn2;
    private readonly Conv2d conv3;
    private readonly nn.Module<Tensor, Tensor> bn3;
    private readonly ReLU relu;
    private readonly Sequential? downsample;

    public Bottleneck(long inChannels, long planes, long stride = 1, long groups = 1, long baseWidth = 64)
                      : base(nameof(Bottleneck))
    {
        long width = planes * baseWidth / 64 * groups;
        conv1 = Conv1x1.Create(inChannels, width);
        bn1 = nn.BatchNorm2d(width);
        conv2 = nn.Conv2d(width, width, 3, stride: stride, padding: 1, groups: groups, bias: false);
        bn2 = nn.BatchNorm2d(width);
        conv3 = Conv1x1.Create(width, planes * Expansion);
        bn3 = nn.BatchNorm2d(planes * Expansion);
        relu = nn.ReLU(inplace: true);
        downsample = Shortcut.ProjectionIfNeeded(inChannels, planes * Expansion, stride);
        OutChannels = planes * Expansion;
        RegisterComponents();
    }

    /// <summary>The seed's identity block: shapes unchanged, so the shortcut is the input itself.</summary>
    public static Bottleneck IdentityBlock(long channels, long groups = 1, long baseWidth = 64)
    {
        if (channels % Expansion != 0)
            throw new ArgumentException($"an identity block needs channels divisible by {Expansion}; found {channels}");
        return new Bottleneck(channels, channels / Expansion, 1, groups, baseWidth);
    }

    /// <summary>The seed's convolutional block: a projection shortcut changes size (stride) and/or channels.</summary>
    public static Bottleneck ConvolutionalBlock(long inChannels, long planes, long stride, long groups = 1, long baseWidth = 64)
    {
        var block = new Bottleneck(inChannels, planes, stride, groups, baseWidth);
        if (!block.HasProjection)
            throw new ArgumentException(
                $"a convolutional block changes shape; {inChannels} -> {planes * Expansion} channels at stride {stride} does not");
        return block;
    }

    public long OutChannels { get; }

    /// <inheritdoc/>
    public void ZeroInitResidual()
    {
        using var _ = no_grad();
        ((BatchNorm2d)bn3).weight!.zero_();
    }

    /// <summary>True for the convolutional block (projection shortcut), false for the identity block.</summary>
    public bool HasProjection => downsample is not null;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = relu.call(bn1.call(conv1.call(x)));
        y = relu.call(bn2.call(conv2.call(y)));
        y = bn3.call(conv3.call(y));
        var shortcut = downsample is null ? x : downsample.call(x);
        return relu.call(y.add_(shortcut)).MoveToOuterDisposeScope();
    }
}
