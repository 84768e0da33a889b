using System.Diagnostics;

namespace Cnn.Training.Reporting;

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
}
