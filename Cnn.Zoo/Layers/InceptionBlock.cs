using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cnn.Zoo.Layers;

/// <summary>
/// The Inception block (Szegedy et al., "Going Deeper with Convolutions", 2014): four parallel branches on the same
/// input, concatenated along channels: 1x1; 1x1 -> 3x3; 1x1 -> "5x5"; 3x3 max-pool -> 1x1. The 1x1 convolutions
/// first cut the channels so the wide convolutions stay cheap (28x28x192 -> 5x5x32 costs 120.4M multiplies directly,
/// 12.4M through a 1x1 bottleneck to 16 channels; the arithmetic is in <see cref="Conv1x1"/>).
/// <para>Deviation kept for weight compatibility: like torchvision's GoogLeNet, the "5x5" branch uses a 3x3 kernel.</para>
/// </summary>
public sealed class InceptionBlock : nn.Module<Tensor, Tensor>
{
    private readonly BasicConv2d branch1;
    private readonly Sequential branch2;
    private readonly Sequential branch3;
    private readonly Sequential branch4;

    public InceptionBlock(long inChannels, InceptionWidths widths) : base(nameof(InceptionBlock))
    {
        branch1 = new BasicConv2d(inChannels, widths.Conv1x1, 1);
        branch2 = nn.Sequential(new BasicConv2d(inChannels, widths.Reduce3x3, 1),
                                new BasicConv2d(widths.Reduce3x3, widths.Conv3x3, 3, padding: 1));
        branch3 = nn.Sequential(new BasicConv2d(inChannels, widths.Reduce5x5, 1),
                                new BasicConv2d(widths.Reduce5x5, widths.Conv5x5, 3, padding: 1));
        branch4 = nn.Sequential(nn.MaxPool2d(3, stride: 1, padding: 1, ceil_mode: true),
                                new BasicConv2d(inChannels, widths.PoolProjection, 1));
        OutChannels = widths.OutChannels;
        RegisterComponents();
    }

    public long OutChannels { get; }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        // N x (1x1 + 3x3 + 5x5 + pool) x H x W: every branch keeps H x W, so channels simply stack.
        return torch.cat([branch1.call(x), branch2.call(x), branch3.call(x), branch4.call(x)], 1).MoveToOuterDisposeScope();
    }
}
