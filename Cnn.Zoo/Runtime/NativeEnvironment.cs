using System.Runtime.InteropServices;

namespace Cnn.Zoo.Runtime;

/// <summary>
/// Environment variables for libtorch's native libraries (oneDNN, libgomp), set from .NET before they read them.
/// On Unix .NET keeps its own copy of the environment, so only libc's <c>setenv</c> reaches native code.
/// </summary>
public static class NativeEnvironment
{
    [DllImport("libc", EntryPoint = "setenv")]
    static extern int SetEnv(string name, string value, int overwrite);

    /// <summary>
    /// Sets <paramref name="name"/> where native code reads it; false where that is not possible here. On Unix, .NET's
    /// own copy is left as it was, so <see cref="Environment.GetEnvironmentVariable(string)"/> still tells what the
    /// user set.
    /// </summary>
    public static bool Set(string name, string value)
    {
        if (OperatingSystem.IsWindows())
        {
            Environment.SetEnvironmentVariable(name, value);   // the process block, which Windows' getenv reads
            return true;
        }
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return false;
        return SetEnv(name, value, 1) == 0;
    }

    static readonly Lazy<string?> openMpWaits = new(() =>
    {
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OMP_WAIT_POLICY"))) return null;   // the user's choice
        return Set("OMP_WAIT_POLICY", "PASSIVE") ? "PASSIVE" : null;
    });

    /// <summary>
    /// Makes libtorch's OpenMP threads sleep, not spin, while they wait for work (<c>OMP_WAIT_POLICY=PASSIVE</c>),
    /// unless the user set a policy. libgomp reads it once, when libtorch is loaded, so this runs before the first
    /// TorchSharp call (the CLI's first step; a zoo model's static constructor, best effort, for library users).
    /// Measured (docs/measurements.md): quiet, the same speed; with one other busy process on 2 cores, spinning
    /// threads starve each other and optimised ResNet-18 inference ran 1.7x and MobileNetV2 3.3x faster passive.
    /// </summary>
    /// <returns>"PASSIVE" when this set it; null when the user's policy was kept or nothing could be set.</returns>
    public static string? EnsurePassiveOpenMpWaits() => openMpWaits.Value;
}
