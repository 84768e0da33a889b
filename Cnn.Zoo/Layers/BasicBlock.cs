using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cnn.Zoo.Layers;

/// <summary>
/// The residual block of ResNet-18/34 (He et al., "Deep Residual Learning for Image Recognition", 2015):
/// out = ReLU(F(x) + shortcut(x)) with F = conv3x3-BN-ReLU-conv3x3-BN. Because the skip connection adds the input
/// back before the last ReLU, the block can learn the identity by driving F to zero, so depth does not hurt.
/// The shortcut is the input itself, or a 1x1 convolution + BN (<c>downsample</c>) when the stride or width changes.
/// </summary>
public sealed class BasicBlock : nn.Module<Tensor, Tensor>, IResidualBlock
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

    /// <param name="groups">Must be 1 and <paramref name="baseWidth"/> 64: taken so that every residual block has the
    /// constructor <see cref="ResidualBlockKind"/> expects, and refused otherwise, as torchvision's BasicBlock does.</param>
    public BasicBlock(long inChannels, long planes, long stride = 1, long groups = 1, long baseWidth = 64)
        : base(nameof(BasicBlock))
    {
        if (groups != 1 || baseWidth != 64)
            throw new ArgumentException(
                $"BasicBlock supports only groups=1 and a width per group of 64 (as in torchvision); found groups={groups}, width per group {baseWidth}");
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

    /// <inheritdoc/>
    public void ZeroInitResidual()
    {
        using var _ = no_grad();
        ((BatchNorm2d)bn2).weight!.zero_();
    }

    /// <inheritdoc/>
    public bool HasProjection => downsample is not null;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var residual = bn2.call(conv2.call(relu.call(bn1.call(conv1.call(x)))));
        var shortcut = downsample is null ? x : downsample.call(x);
        return relu.call(residual.add_(shortcut)).MoveToOuterDisposeScope();
    }
}
