using System.Diagnostics;

namespace Cnn.Training.Benchmarks;

/// <summary>
/// Times several cases in one process, interleaved (A, B, C, A, B, C, ...) after a warm-up, so a noisy neighbour or a
/// CPU clock change hits every case alike; each case's figure is the median over the repeats.
/// </summary>
public static class Interleaved
{
    /// <summary>Median images per second of each case, keyed by name.</summary>
    /// <param name="minSeconds">Each sample runs a case often enough to last about this long.</param>
    public static Dictionary<string, double> ImagesPerSecond(IReadOnlyList<TimedCase> cases, int warmup, int repeats, double minSeconds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(repeats, 1);
        var iterations = new Dictionary<string, int>();
        foreach (var c in cases)
        {
            double seconds = 0;
            for (int i = 0; i < Math.Max(1, warmup); i++) seconds = Time(c.RunOnce, 1);
            iterations[c.Name] = Math.Max(1, (int)Math.Ceiling(minSeconds / Math.Max(1e-6, seconds)));
        }
        var samples = cases.ToDictionary(c => c.Name, _ => new List<double>());
        for (int r = 0; r < repeats; r++)
        {
            foreach (var c in cases)
            {
                int n = iterations[c.Name];
                samples[c.Name].Add(c.Images * n / Time(c.RunOnce, n));
            }
        }
        return samples.ToDictionary(s => s.Key, s => Median(s.Value));
    }

    static double Time(Action action, int iterations)
    {
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < iterations; i++) action();
        return clock.Elapsed.TotalSeconds;
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) return double.NaN;
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
