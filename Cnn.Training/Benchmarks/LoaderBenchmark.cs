using System.Diagnostics;
using Cnn.Training.Data;

namespace Cnn.Training.Benchmarks;

/// <summary>Throughput of a loader's decode-and-augment pipeline, for choosing a worker count; no model runs.</summary>
public static class LoaderBenchmark
{
    /// <summary>The first <paramref name="maxBatches"/> batches of epoch 0, worker start-up included.</summary>
    public static LoaderThroughput Measure(DataLoader loader, int maxBatches)
    {
        ArgumentNullException.ThrowIfNull(loader);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatches, 1);
        var clock = Stopwatch.StartNew();
        long images = 0;
        int batches = 0;
        foreach (var batch in loader.Epoch(0))
        {
            images += batch.Count;
            batch.Dispose();
            if (++batches >= maxBatches) break;
        }
        return new LoaderThroughput(images, batches, clock.Elapsed);
    }
}
