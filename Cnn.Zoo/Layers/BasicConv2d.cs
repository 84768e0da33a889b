using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cnn.Zoo.Layers;

/// <summary>
/// Convolution + batch norm (eps 0.001) + ReLU with children named <c>conv</c> and <c>bn</c>: torchvision's
/// <c>BasicConv2d</c>, the unit of GoogLeNet (batch norm is a later addition to the 2014 paper).
/// </summary>
public sealed class BasicConv2d : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv;
    // Typed as a module, not BatchNorm2d, so inference folding can put an Identity in its place.
    private readonly nn.Module<Tensor, Tensor> bn;

    public BasicConv2d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0)
        : base(nameof(BasicConv2d))
    {
        conv = nn.Conv2d(inChannels, outChannels, kernelSize, stride: stride, padding: padding, bias: false);
        bn = nn.BatchNorm2d(outChannels, eps: 0.001);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return nn.functional.relu(bn.call(conv.call(x)), inplace: true).MoveToOuterDisposeScope();
    }
}
