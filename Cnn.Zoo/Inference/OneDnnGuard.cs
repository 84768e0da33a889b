using System.Runtime.InteropServices;
using TorchSharp;

namespace Cnn.Zoo.Inference;

/// <summary>
/// Keeps libtorch's oneDNN kernels away from CPUs whose CPUID describes no caches, where they compute wrong results.
/// </summary>
/// <remarks>
/// oneDNN sizes its convolution blocks from the cache sizes in CPUID (leaf 4, or 0x8000001D on AMD). Some virtual
/// machines report none. There, measured with libtorch 2.10 on an AMD EPYC guest: its AVX-512 fp32 convolutions came out
/// 4-25% off a float64 reference (GoogLeNet's 24-channel 3x3 at batch 2, channels-last ResNet-18 and MobileNetV2), bf16
/// ones 40-60% off, and with the ISA capped at AVX2 processes died of SIGFPE in the 1x1 brgemm blocking
/// (<c>brg_blocking_t::est_eff_1x1</c>). Capped at AVX, every convolution agreed with float64 and nothing crashed, at
/// 0.4-0.9x the (wrong) AVX-512 speed; with oneDNN off, libtorch's reference path was right but 2-15x slower still.
/// So on such CPUs the guard caps oneDNN at AVX, before oneDNN first reads its setting.
///
/// The environment variable <c>CNNZOO_ONEDNN</c> overrides: <c>default</c> keeps libtorch's choice, <c>avx</c> caps
/// on any CPU, <c>off</c> turns oneDNN off (through <c>at::globalContext().setUserEnabledMkldnn(false)</c>, the
/// function PyTorch's <c>torch.backends.mkldnn.enabled</c> setter calls; TorchSharp does not expose it). A cap the user
/// set in <c>ONEDNN_MAX_CPU_ISA</c> or <c>DNNL_MAX_CPU_ISA</c> is left alone.
/// </remarks>
public static class OneDnnGuard
{
    const string Override = "CNNZOO_ONEDNN";
    static readonly string[] userCaps = ["ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA"];
    static readonly Lazy<(OneDnnSetting Setting, string? Reason)> applied = new(Apply);

    /// <summary>Applies the guard once per process (later calls are free); returns what it changed and why, or null.</summary>
    /// <remarks>Call it before the first convolution: oneDNN reads its instruction-set cap once. Every zoo model's
    /// constructor calls it.</remarks>
    public static string? Ensure() => applied.Value.Reason;

    /// <summary>The instruction-set cap the user set for oneDNN (<c>ONEDNN_MAX_CPU_ISA</c>, or its older name
    /// <c>DNNL_MAX_CPU_ISA</c>), which the guard leaves alone; null when there is none.</summary>
    public static string? UserCap => userCaps.Select(Environment.GetEnvironmentVariable).FirstOrDefault(v => !string.IsNullOrEmpty(v));

    /// <summary>The setting in force in this process.</summary>
    public static OneDnnSetting Setting => applied.Value.Setting;

    delegate IntPtr GlobalContext();
    delegate void SetEnabled(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    static (OneDnnSetting, string?) Apply()
    {
        var (wanted, why) = Decide(Environment.GetEnvironmentVariable(Override), CpuCapabilities.Current.CacheTopology, UserCap);
        return wanted switch
        {
            OneDnnSetting.CappedToAvx when CapToAvx() => (OneDnnSetting.CappedToAvx, $"oneDNN held to its AVX kernels: {why}"),
            OneDnnSetting.CappedToAvx or OneDnnSetting.Off when TurnOff() => (OneDnnSetting.Off, $"oneDNN off, convolutions on libtorch's slower reference path: {why}"),
            // Neither control reachable: the defaults stay, and the user who asked for a change is told so.
            OneDnnSetting.CappedToAvx or OneDnnSetting.Off => (OneDnnSetting.Default,
                $"oneDNN left at libtorch's defaults: neither ONEDNN_MAX_CPU_ISA could be set nor libtorch's setUserEnabledMkldnn found, though {why}"),
            _ => (OneDnnSetting.Default, why),
        };
    }

    /// <summary>
    /// What the guard wants for a <c>CNNZOO_ONEDNN</c> value (<paramref name="requested"/>) on a CPU with or without
    /// cache topology in CPUID, and why; for Default, why is null or says the value was not understood. Pure, so tests
    /// fake the CPU both ways.
    /// </summary>
    public static (OneDnnSetting Setting, string? Why) Decide(string? requested, bool cacheTopology, string? userCap)
    {
        requested = (requested ?? "").Trim().ToLowerInvariant();
        string why = $"{Override}={requested}";
        if (requested is "")
        {
            if (cacheTopology || userCap is not null) return (OneDnnSetting.Default, null);
            requested = "avx";
            why = "this CPU's CPUID describes no caches, and oneDNN's faster kernels compute wrong results without them";
        }
        if (requested == "avx" && userCap is not null)
            return (OneDnnSetting.Default, $"{why} asks for AVX, but the cap you set (ONEDNN_MAX_CPU_ISA or DNNL_MAX_CPU_ISA = {userCap}) is kept");
        return requested switch
        {
            "default" => (OneDnnSetting.Default, null),
            "avx" => (OneDnnSetting.CappedToAvx, why),
            "off" => (OneDnnSetting.Off, why),
            // Not an exception: this runs in a static constructor, where one would break every model for good.
            _ => (OneDnnSetting.Default, $"{Override}: expected default, avx or off; found '{requested}', so libtorch's defaults are kept"),
        };
    }

    static bool CapToAvx()
    {
        return Runtime.NativeEnvironment.Set("ONEDNN_MAX_CPU_ISA", "AVX");
    }

    static bool TurnOff()
    {
        torch.InitializeDeviceType(DeviceType.CPU);   // TorchSharp loads libtorch; the library below is then already in the process
        var (library, contextSymbol, setterSymbol) = OperatingSystem.IsWindows()
            ? ("torch_cpu.dll", "?globalContext@at@@YAAEAVContext@1@XZ", "?setUserEnabledMkldnn@Context@at@@QEAAX_N@Z")
            : (OperatingSystem.IsMacOS() ? "libtorch_cpu.dylib" : "libtorch_cpu.so", "_ZN2at13globalContextEv", "_ZN2at7Context20setUserEnabledMkldnnEb");
        if (!NativeLibrary.TryLoad(library, typeof(torch).Assembly, null, out var handle)
            || !NativeLibrary.TryGetExport(handle, contextSymbol, out var contextAddress)
            || !NativeLibrary.TryGetExport(handle, setterSymbol, out var setterAddress))
            return false;
        var context = Marshal.GetDelegateForFunctionPointer<GlobalContext>(contextAddress)();
        Marshal.GetDelegateForFunctionPointer<SetEnabled>(setterAddress)(context, false);
        return true;
    }
}
