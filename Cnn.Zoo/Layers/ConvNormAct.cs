using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Cnn.Zoo.Layers;

/// <summary>
/// Convolution (no bias), batch norm, activation: the unit most modern CNNs repeat.
/// Children are named <c>0</c>, <c>1</c>, <c>2</c> like torchvision's <c>Conv2dNormActivation</c> (a Sequential),
/// so its keys are <c>0.weight</c>, <c>1.running_mean</c>, ... and torchvision checkpoints load unchanged.
/// Padding is "same" for odd kernels at stride 1: (kernel - 1) / 2.
/// </summary>
public sealed class ConvNormAct : nn.Module<Tensor, Tensor>
{
    // Field names become state-dict keys; torchvision's Sequential numbering requires "0", "1", "2".
    [ComponentName(Name = "0")] private readonly Conv2d conv;
    // The norm is typed as a module, not BatchNorm2d, so inference folding can put an Identity in its place.
    [ComponentName(Name = "1")] private readonly nn.Module<Tensor, Tensor> norm;
    [ComponentName(Name = "2")] private readonly nn.Module<Tensor, Tensor>? act;

    public ConvNormAct(long inChannels, long outChannels, long kernelSize = 3, long stride = 1, long groups = 1,
                       Activation activation = Activation.ReLU, double eps = 1e-5) : base(nameof(ConvNormAct))
    {
        if (inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"channels ({inChannels} in, {outChannels} out) must be divisible by groups ({groups})");
        conv = nn.Conv2d(inChannels, outChannels, kernelSize, stride: stride, padding: (kernelSize - 1) / 2,
                         groups: groups, bias: false);
        norm = nn.BatchNorm2d(outChannels, eps: eps);
        act = activation == Activation.None ? null : ActivationFactory.Create(activation);
        OutChannels = outChannels;
        RegisterComponents();
    }

    public long OutChannels { get; }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = norm.call(conv.call(x));
        if (act is not null) y = act.call(y);
        return y.MoveToOuterDisposeScope();
    }
}
