using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cnn.Zoo.Layers;

/// <summary>
/// The 1x1 convolution ("network in network", Lin et al., 2013): a fully connected layer from C_in to C_out channels,
/// applied with the same weights at every position, so height and width are unchanged (at stride 1). It is cheap
/// (C_in multiply-adds per output value) and the zoo uses it for three jobs:
/// <list type="bullet">
/// <item><b>Changing the channel count</b>: 32 filters of 1x1x192 turn 28x28x192 into 28x28x32. The <see cref="Bottleneck"/>
/// reduces with one (<c>conv1</c>) and expands by 4 with another (<c>conv3</c>); <see cref="InvertedResidual"/> expands
/// and projects with them; <see cref="DepthwiseSeparable"/>'s pointwise half is one; a residual block's projection
/// shortcut (<c>downsample.0</c>) is one at stride 2.</item>
/// <item><b>Cutting the cost of a wide convolution</b>: the <see cref="InceptionBlock"/> reduces channels before its 3x3
/// and "5x5" branches. From 28x28x192, a 5x5 "same" convolution to 32 channels costs
/// 28*28*32*5*5*192 = 120,422,400 multiplies; a 1x1 down to 16 channels first costs
/// 28*28*16*192 + 28*28*32*5*5*16 = 2,408,448 + 10,035,200 = 12,443,648, about a tenth
/// (<see cref="Analysis.ConvArithmetic.MultiplyAccumulates"/> computes these; the summary measures them).</item>
/// <item><b>Adding a non-linearity</b>: followed by batch norm and ReLU, it deepens a block at little cost (GoogLeNet's
/// reductions are <see cref="BasicConv2d"/>s with a 1x1 kernel).</item>
/// </list>
/// </summary>
public static class Conv1x1
{
    /// <summary>
    /// A <see cref="Conv2d"/> with a 1x1 kernel and no padding; no bias by default, because a batch norm follows it
    /// everywhere in the zoo. It is a plain Conv2d, so its state-dict keys are the field name the caller gives it.
    /// </summary>
    public static Conv2d Create(long inChannels, long outChannels, long stride = 1, bool bias = false)
        => nn.Conv2d(inChannels, outChannels, 1, stride: stride, bias: bias);
}
