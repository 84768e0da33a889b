namespace Cnn.Zoo.Layers;

/// <summary>What a ResNet needs from the blocks it stacks (<see cref="BasicBlock"/>, <see cref="Bottleneck"/>).</summary>
public interface IResidualBlock
{
    /// <summary>Channels of the block's output: planes x the block's expansion.</summary>
    long OutChannels { get; }

    /// <summary>True when the shortcut is a projection (1x1 conv + BN) rather than the input itself.</summary>
    bool HasProjection { get; }

    /// <summary>
    /// Zeroes the last batch norm's scale so the block starts as the identity (Goyal et al., 2017); call after any
    /// model-wide initialisation.
    /// </summary>
    void ZeroInitResidual();
}
