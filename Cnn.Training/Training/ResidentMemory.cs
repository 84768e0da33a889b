using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Cnn.Training.Training;

/// <summary>Resident memory of this process, libtorch's native allocations included.</summary>
public static class ResidentMemory
{
    public static double CurrentMegabytes()
    {
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return process.WorkingSet64 / 1048576.0;
    }

    /// <summary>The highest resident memory so far (Linux VmHWM).</summary>
    public static double PeakMegabytes()
    {
        using var process = Process.GetCurrentProcess();
        return process.PeakWorkingSet64 / 1048576.0;
    }

    /// <summary>
    /// Hands free native heap memory back to the operating system (glibc's <c>malloc_trim</c>). libtorch frees
    /// tensors into glibc's heaps, which keep the pages; after an epoch's validation pass and checkpoint writes,
    /// trimming keeps resident memory at what is actually in use. A no-op where glibc is absent.
    /// </summary>
    public static void ReleaseFreeNativeMemory()
    {
        if (!OperatingSystem.IsLinux() || trimUnavailable) return;
        try
        {
            _ = MallocTrim(0);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            trimUnavailable = true;   // musl or another C library: nothing to trim
        }
    }

    static bool trimUnavailable;

    // DllImport, not LibraryImport: the generated marshalling would need unsafe code for one blittable call.
#pragma warning disable SYSLIB1054
    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);
#pragma warning restore SYSLIB1054
}
