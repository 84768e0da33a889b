using System.Runtime.InteropServices;
using TorchSharp;

namespace Cnn.Zoo.Inference;

/// <summary>
/// Turns libtorch's oneDNN (MKLDNN) kernels off on CPUs whose CPUID describes no caches, where they are wrong.
/// </summary>
/// <remarks>
/// oneDNN sizes its convolution blocks from the cache sizes in CPUID (leaf 4, or 0x8000001D on AMD). Some virtual
/// machines report none. There, measured with libtorch 2.10 on an AMD EPYC guest: fp32 convolutions came out 4-10% off
/// (GoogLeNet's 3x3 branches at batch 2, channels-last ResNet-18), bf16 ones 40-60% off, and processes died of SIGFPE
/// in oneDNN's 1x1 brgemm blocking (<c>brg_blocking_t::est_eff_1x1</c> divides by the cache size). libtorch then runs
/// convolutions on its own im2col + BLAS path instead: slower, but right.
///
/// TorchSharp does not expose <c>torch.backends.mkldnn.enabled</c>, so this calls the same libtorch function PyTorch's
/// setter does, <c>at::globalContext().setUserEnabledMkldnn(false)</c>, through its exported symbol. Setting the
/// environment variable <c>CNNZOO_ONEDNN=1</c> keeps oneDNN on regardless (to measure, or on a fixed libtorch).
/// </remarks>
public static class OneDnnGuard
{
    static readonly Lazy<string?> reason = new(Apply);

    /// <summary>Applies the guard once per process (later calls are free); returns why oneDNN is off, or null.</summary>
    public static string? Ensure() => reason.Value;

    /// <summary>Why oneDNN was turned off in this process, or null when it is on.</summary>
    public static string? DisabledBecause => reason.Value;

    delegate IntPtr GlobalContext();
    delegate void SetEnabled(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    static string? Apply()
    {
        if (CpuCapabilities.Current.CacheTopology) return null;
        if (Environment.GetEnvironmentVariable("CNNZOO_ONEDNN") == "1") return null;
        torch.InitializeDeviceType(DeviceType.CPU);   // TorchSharp loads libtorch; the library below is then already in the process
        var (library, contextSymbol, setterSymbol) = OperatingSystem.IsWindows()
            ? ("torch_cpu.dll", "?globalContext@at@@YAAEAVContext@1@XZ", "?setUserEnabledMkldnn@Context@at@@QEAAX_N@Z")
            : (OperatingSystem.IsMacOS() ? "libtorch_cpu.dylib" : "libtorch_cpu.so", "_ZN2at13globalContextEv", "_ZN2at7Context20setUserEnabledMkldnnEb");
        if (!NativeLibrary.TryLoad(library, typeof(torch).Assembly, null, out var handle)
            || !NativeLibrary.TryGetExport(handle, contextSymbol, out var contextAddress)
            || !NativeLibrary.TryGetExport(handle, setterSymbol, out var setterAddress))
            return null;   // a libtorch without these exports: nothing to do but keep its defaults
        var context = Marshal.GetDelegateForFunctionPointer<GlobalContext>(contextAddress)();
        Marshal.GetDelegateForFunctionPointer<SetEnabled>(setterAddress)(context, false);
        return "this CPU's CPUID describes no caches, and libtorch's oneDNN kernels compute wrong results without them";
    }
}
