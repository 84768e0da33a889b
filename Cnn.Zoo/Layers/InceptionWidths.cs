namespace Cnn.Zoo.Layers;

/// <summary>The widths of one Inception block's four branches.</summary>
/// <param name="Conv1x1">Filters of the 1x1 branch.</param>
/// <param name="Reduce3x3">1x1 bottleneck before the 3x3 branch.</param>
/// <param name="Conv3x3">Filters of the 3x3 branch.</param>
/// <param name="Reduce5x5">1x1 bottleneck before the "5x5" branch.</param>
/// <param name="Conv5x5">Filters of the "5x5" branch.</param>
/// <param name="PoolProjection">1x1 filters after the 3x3 max-pool.</param>
public sealed record InceptionWidths(int Conv1x1, int Reduce3x3, int Conv3x3, int Reduce5x5, int Conv5x5, int PoolProjection)
{
    /// <summary>Channels of the concatenated output.</summary>
    public int OutChannels => Conv1x1 + Conv3x3 + Conv5x5 + PoolProjection;
}
