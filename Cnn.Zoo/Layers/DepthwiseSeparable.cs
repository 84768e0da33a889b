using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Zoo.Layers;

/// <summary>
/// Depthwise-separable convolution (Howard et al., "MobileNets", 2017): a depthwise 3x3 convolution (one filter per
/// input channel, <c>groups = channels</c>) followed by a pointwise 1x1 convolution across channels, each with batch
/// norm and ReLU. For M x N x C_in input and C_out filters of f x f this costs M*N*C_in*f*f + M*N*C_in*C_out
/// multiply-adds instead of M*N*C_in*f*f*C_out (656 instead of 4,608 per position for 16 -> 32 channels, 3x3).
/// </summary>
public sealed class DepthwiseSeparable : nn.Module<Tensor, Tensor>
{
    private readonly ConvNormAct dw;
    private readonly ConvNormAct pw;

    public DepthwiseSeparable(long inChannels, long outChannels, long stride = 1, Activation activation = Activation.ReLU)
        : base(nameof(DepthwiseSeparable))
    {
        dw = new ConvNormAct(inChannels, inChannels, 3, stride, groups: inChannels, activation: activation);
        pw = new ConvNormAct(inChannels, outChannels, 1, activation: activation);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var hidden = dw.call(x);
        return pw.call(hidden);
    }
}
