namespace Cnn.Zoo.Inference;

/// <summary>How 4-D tensors are laid out in memory for convolutions.</summary>
public enum MemoryLayout
{
    /// <summary>
    /// Channels-last for images of at least 64 x 64 pixels, NCHW below (<see cref="MemoryFormat.ChannelsLastPays"/>).
    /// </summary>
    Auto,
    /// <summary>N x C x H x W values with NHWC strides.</summary>
    ChannelsLast,
    /// <summary>Plain contiguous N x C x H x W.</summary>
    Nchw,
}
