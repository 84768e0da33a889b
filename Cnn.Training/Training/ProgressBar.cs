using System.Diagnostics;

namespace Cnn.Training.Training;

/// <summary>
/// A one-line progress bar with rate and ETA, redrawn at most ten times a second on a terminal. When output is
/// redirected (CI, a log file) it prints a plain line at every 25% instead, so logs stay readable.
/// </summary>
public sealed class ProgressBar
{
    readonly string label;
    readonly int total;
    readonly string unit;
    readonly Stopwatch clock = Stopwatch.StartNew();
    readonly bool interactive = !Console.IsOutputRedirected;
    long lastDraw = -1000;
    int lastQuarter;

    public ProgressBar(string label, int total, string unit = "img")
    {
        this.label = label;
        this.total = Math.Max(1, total);
        this.unit = unit;
    }

    /// <summary>Reports <paramref name="done"/> of the total steps, <paramref name="items"/> items processed so far.</summary>
    public void Update(int done, long items, string metrics)
    {
        long now = clock.ElapsedMilliseconds;
        bool last = done >= total;
        double seconds = Math.Max(1e-9, clock.Elapsed.TotalSeconds);
        double rate = items / seconds;
        double eta = done == 0 ? 0 : seconds / done * (total - done);
        if (interactive)
        {
            if (!last && now - lastDraw < 100) return;
            lastDraw = now;
            const int width = 24;
            int filled = (int)((long)width * done / total);
            string bar = new string('#', filled) + new string('.', width - filled);
            Console.Write($"\r{label} [{bar}] {done}/{total} {metrics} {rate,7:F0} {unit}/s ETA {Format(eta)}   ");
            if (last) Console.WriteLine();
        }
        else
        {
            int quarter = (int)(4L * done / total);
            if (quarter <= lastQuarter && !last) return;
            if (last && lastQuarter == 4) return;
            lastQuarter = quarter;
            Console.WriteLine($"{label} {done}/{total} {metrics} {rate:F0} {unit}/s ETA {Format(eta)}");
        }
    }

    static string Format(double seconds)
        => seconds >= 3600 ? TimeSpan.FromSeconds(seconds).ToString(@"h\:mm\:ss") : TimeSpan.FromSeconds(seconds).ToString(@"m\:ss");
}
