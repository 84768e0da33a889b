using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cnn.Zoo.Layers;

/// <summary>The projection shortcut shared by both residual blocks.</summary>
internal static class Shortcut
{
    /// <summary>1x1 convolution + BN when the block changes stride or width (keys <c>downsample.0/1</c>), else null.</summary>
    public static Sequential? ProjectionIfNeeded(long inChannels, long outChannels, long stride)
        => stride == 1 && inChannels == outChannels
            ? null
            : nn.Sequential(Conv1x1.Create(inChannels, outChannels, stride), nn.BatchNorm2d(outChannels));
}
