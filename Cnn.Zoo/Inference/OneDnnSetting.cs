namespace Cnn.Zoo.Inference;

/// <summary>What <see cref="OneDnnGuard"/> did to libtorch's oneDNN (MKLDNN) kernels in this process.</summary>
public enum OneDnnSetting
{
    /// <summary>libtorch's defaults: oneDNN picks the best kernels for the CPU.</summary>
    Default,

    /// <summary>oneDNN held to its AVX kernels (<c>ONEDNN_MAX_CPU_ISA=AVX</c>): right where the faster ones are not.</summary>
    CappedToAvx,

    /// <summary>oneDNN off (<c>torch.backends.mkldnn.enabled = False</c>): libtorch's own im2col + BLAS convolutions.</summary>
    Off,
}
