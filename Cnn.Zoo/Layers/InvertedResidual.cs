using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cnn.Zoo.Layers;

/// <summary>
/// MobileNetV2's inverted residual block (Sandler et al., "MobileNetV2", 2018): a 1x1 expansion by
/// <c>expandRatio</c> (ReLU6), a 3x3 depthwise convolution (ReLU6), and a linear <see cref="Conv1x1"/> projection (no activation:
/// a ReLU on the narrow bottleneck would destroy information). The input is added back when stride is 1 and the
/// widths match. Children are <c>conv.0</c> ... as in torchvision, so its checkpoints load unchanged.
/// </summary>
public sealed class InvertedResidual : nn.Module<Tensor, Tensor>
{
    private readonly Sequential conv;

    public InvertedResidual(long inChannels, long outChannels, long stride, long expandRatio)
        : base(nameof(InvertedResidual))
    {
        if (stride != 1 && stride != 2) throw new ArgumentOutOfRangeException(nameof(stride), stride, "expected stride 1 or 2");
        if (expandRatio < 1) throw new ArgumentOutOfRangeException(nameof(expandRatio), expandRatio, "expected an expansion of at least 1");
        long hidden = inChannels * expandRatio;
        var layers = new List<nn.Module<Tensor, Tensor>>();
        if (expandRatio != 1) layers.Add(new ConvNormAct(inChannels, hidden, 1, activation: Activation.ReLU6));
        layers.Add(new ConvNormAct(hidden, hidden, 3, stride, groups: hidden, activation: Activation.ReLU6));
        layers.Add(Conv1x1.Create(hidden, outChannels));
        layers.Add(nn.BatchNorm2d(outChannels));
        conv = nn.Sequential(layers);
        UsesResidual = stride == 1 && inChannels == outChannels;
        OutChannels = outChannels;
        RegisterComponents();
    }

    /// <summary>True when the input is added to the output (stride 1, equal widths).</summary>
    public bool UsesResidual { get; }

    public long OutChannels { get; }

    public override Tensor forward(Tensor x)
    {
        if (!UsesResidual) return conv.call(x);
        using var scope = NewDisposeScope();
        return conv.call(x).add_(x).MoveToOuterDisposeScope();
    }
}
