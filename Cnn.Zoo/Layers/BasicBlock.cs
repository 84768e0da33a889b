using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cnn.Zoo.Layers;

/// <summary>Which residual block a ResNet stage stacks.</summary>
public enum ResidualBlockKind
{
    /// <summary>Two 3x3 convolutions (ResNet-18/34). Expansion 1.</summary>
    Basic,
    /// <summary>1x1 reduce, 3x3, 1x1 expand (ResNet-50/101/152). Expansion 4.</summary>
    Bottleneck,
}

/// <summary>
/// The residual block of ResNet-18/34 (He et al., "Deep Residual Learning for Image Recognition", 2015):
/// out = ReLU(F(x) + shortcut(x)) with F = conv3x3-BN-ReLU-conv3x3-BN. Because the skip connection adds the input
/// back before the last ReLU, the block can learn the identity by driving F to zero, so depth does not hurt.
/// The shortcut is the input itself, or a 1x1 convolution + BN (<c>downsample</c>) when the stride or width changes.
/// </summary>
public sealed class BasicBlock : nn.Module<Tensor, Tensor>
{
    public const int Expansion = 1;

    // Field order and names are torchvision's, so the state-dict keys are too.
    private readonly Conv2d conv1;
    // Norms are typed as modules, not BatchNorm2d, so inference folding can put an Identity in their place.
    private readonly nn.Module<Tensor, Tensor> bn1;
    private readonly ReLU relu;
    private readonly Conv2d conv2;
    private readonly nn.Module<Tensor, Tensor> bn2;
    private readonly Sequential? downsample;

    public BasicBlock(long inChannels, long planes, long stride = 1)
        : base(nameof(BasicBlock))
    {
        conv1 = nn.Conv2d(inChannels, planes, 3, stride: stride, padding: 1, bias: false);
        bn1 = nn.BatchNorm2d(planes);
        relu = nn.ReLU(inplace: true);
        conv2 = nn.Conv2d(planes, planes, 3, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(planes);
        downsample = Shortcut.ProjectionIfNeeded(inChannels, planes * Expansion, stride);
        OutChannels = planes * Expansion;
        RegisterComponents();
    }

    public long OutChannels { get; }

    /// <summary>
    /// Zeroes the last batch norm's scale so the block starts as the identity (Goyal et al., 2017); call after any
    /// model-wide initialisation.
    /// </summary>
    public void ZeroInitResidual()
    {
        using var _ = no_grad();
        ((BatchNorm2d)bn2).weight!.zero_();
    }

    /// <summary>True when the shortcut is a projection (1x1 conv + BN) rather than the input itself.</summary>
    public bool HasProjection => downsample is not null;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var residual = bn2.call(conv2.call(relu.call(bn1.call(conv1.call(x)))));
        var shortcut = downsample is null ? x : downsample.call(x);
        return relu.call(residual.add_(shortcut)).MoveToOuterDisposeScope();
    }
}

/// <summary>The projection shortcut shared by both residual blocks.</summary>
internal static class Shortcut
{
    /// <summary>1x1 convolution + BN when the block changes stride or width (keys <c>downsample.0/1</c>), else null.</summary>
    public static Sequential? ProjectionIfNeeded(long inChannels, long outChannels, long stride)
        => stride == 1 && inChannels == outChannels
            ? null
            : nn.Sequential(nn.Conv2d(inChannels, outChannels, 1, stride: stride, bias: false), nn.BatchNorm2d(outChannels));
}
