namespace Cnn.Training.Benchmarks;

/// <summary>What a loader delivered in a timed stretch: images and batches handed to the consumer, and the time taken.</summary>
public sealed record LoaderThroughput(long Images, int Batches, TimeSpan Elapsed)
{
    public double ImagesPerSecond => Elapsed > TimeSpan.Zero ? Images / Elapsed.TotalSeconds : double.NaN;
}
