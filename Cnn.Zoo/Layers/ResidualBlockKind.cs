using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Zoo.Layers;

/// <summary>
/// Which residual block a ResNet stacks, handed to the builder the way torchvision hands its ResNet the block class:
/// the block's constructor and its expansion (a block's output has planes x expansion channels). The builder then
/// has one path for every depth, and a new block type needs no change to it.
/// </summary>
/// <param name="Name">The block's class name, for messages.</param>
/// <param name="Expansion">Output channels per plane (1 for <see cref="BasicBlock"/>, 4 for <see cref="Layers.Bottleneck"/>).</param>
/// <param name="Convolutions">Convolutions on the block's main path, for the depth count (2 or 3).</param>
/// <param name="Create">Builds one block.</param>
public sealed record ResidualBlockKind(string Name, int Expansion, int Convolutions, ResidualBlockKind.Constructor Create)
{
    /// <summary>Builds a block taking <paramref name="inChannels"/> to planes x expansion channels; the first block of a
    /// stage gets the stage's stride. <paramref name="groups"/> and <paramref name="baseWidth"/> are torchvision's
    /// ResNeXt/Wide ResNet arguments; a block that cannot honour them throws.</summary>
    public delegate nn.Module<Tensor, Tensor> Constructor(long inChannels, long planes, long stride, long groups, long baseWidth);

    /// <summary>Two 3x3 convolutions (ResNet-18/34).</summary>
    public static readonly ResidualBlockKind Basic =
        new(nameof(BasicBlock), BasicBlock.Expansion, 2, (i, p, s, g, w) => new BasicBlock(i, p, s, g, w));

    /// <summary>1x1 reduce, 3x3, 1x1 expand (ResNet-50/101/152, ResNeXt, Wide ResNet).</summary>
    public static readonly ResidualBlockKind Bottleneck =
        new(nameof(Layers.Bottleneck), Layers.Bottleneck.Expansion, 3, (i, p, s, g, w) => new Layers.Bottleneck(i, p, s, g, w));

    public override string ToString() => Name;
}
