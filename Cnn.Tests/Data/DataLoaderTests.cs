using Cnn.Training.Benchmarks;
using Cnn.Training.Data;
using Cnn.Zoo;
using TorchSharp;

namespace Cnn.Tests.Data;

[TestClass]
public sealed class DataLoaderTests
{
    /// <summary>Every batch of an epoch as (indices, labels, image values), the tensors copied out and disposed.</summary>
    private static List<(int[] Indices, long[] Labels, float[] Images, long[] Shape)> Run(DataLoader loader, int epoch)
    {
        var batches = new List<(int[], long[], float[], long[])>();
        foreach (var batch in loader.Epoch(epoch))
        {
            using (batch)
            {
                Assert.AreEqual(torch.ScalarType.Float32, batch.Images.dtype);
                Assert.AreEqual(torch.ScalarType.Int64, batch.Labels.dtype);
                batches.Add(([.. batch.Indices], batch.Labels.data<long>().ToArray(), batch.Images.data<float>().ToArray(), batch.Images.shape));
            }
        }
        return batches;
    }

    [TestMethod]
    [DataRow(0)]
    [DataRow(1)]
    [DataRow(3)]
    public void EveryEpochYieldsEverySampleOnce(int workers)
    {
        var data = new FakeDataset(23, classes: 3, channels: 2, size: 4);
        var loader = new DataLoader(data, Transforms.Compose(), batchSize: 5, shuffle: true, seed: 11, workers: workers, prefetch: 2);

        var batches = Run(loader, epoch: 0);

        Assert.AreEqual(5, loader.BatchesPerEpoch);
        Assert.AreEqual(5, batches.Count);
        CollectionAssert.AreEqual(new long[] { 5, 2, 4, 4 }, batches[0].Shape);
        CollectionAssert.AreEqual(new long[] { 3, 2, 4, 4 }, batches[^1].Shape);
        var all = batches.SelectMany(b => b.Indices).ToList();
        CollectionAssert.AreEquivalent(Enumerable.Range(0, 23).ToList(), all);
        foreach (var (indices, labels, images, _) in batches)
        {
            for (int row = 0; row < indices.Length; row++)
            {
                Assert.AreEqual(indices[row] % 3, labels[row], "label travels with its image");
                Assert.AreEqual(indices[row] / 1000f, images[row * 32], "image travels with its index");
            }
        }
    }

    [TestMethod]
    public void DropLastOmitsThePartialBatch()
    {
        var loader = new DataLoader(new FakeDataset(23), Transforms.Compose(), batchSize: 5, shuffle: false, seed: 0, dropLast: true);

        var batches = Run(loader, 0);

        Assert.AreEqual(4, loader.BatchesPerEpoch);
        Assert.AreEqual(4, batches.Count);
        CollectionAssert.AreEqual(Enumerable.Range(0, 20).ToArray(), batches.SelectMany(b => b.Indices).ToArray(), "no shuffle: dataset order");
    }

    [TestMethod]
    public void BatchesAreTheSameForAnyWorkerCount()
    {
        var data = new FakeDataset(40, channels: 3, size: 12);
        var augment = Transforms.Compose(Transforms.RandomResizedCrop(8), Transforms.HorizontalFlip(), Transforms.RandomCrop(8, 2));
        DataLoader Loader(int workers) => new(data, augment, batchSize: 6, shuffle: true, seed: 42, workers: workers, prefetch: 3);

        var reference = Run(Loader(1), epoch: 2);
        foreach (int workers in new[] { 0, 4 })
        {
            var other = Run(Loader(workers), epoch: 2);
            Assert.AreEqual(reference.Count, other.Count);
            for (int b = 0; b < reference.Count; b++)
            {
                CollectionAssert.AreEqual(reference[b].Indices, other[b].Indices, $"workers={workers} batch {b} order");
                CollectionAssert.AreEqual(reference[b].Images, other[b].Images, $"workers={workers} batch {b} pixels");
            }
        }
    }

    [TestMethod]
    public void OrderDependsOnEpochAndSeed()
    {
        var data = new FakeDataset(50);
        var loader = new DataLoader(data, Transforms.Compose(), batchSize: 50, shuffle: true, seed: 3);
        var sameSeed = new DataLoader(data, Transforms.Compose(), batchSize: 50, shuffle: true, seed: 3, workers: 1);
        var otherSeed = new DataLoader(data, Transforms.Compose(), batchSize: 50, shuffle: true, seed: 4);

        var epoch0 = Run(loader, 0).Single().Indices;

        CollectionAssert.AreEqual(epoch0, Run(sameSeed, 0).Single().Indices);
        CollectionAssert.AreEqual(epoch0, loader.SampleOrder(0));
        CollectionAssert.AreNotEqual(epoch0, Run(loader, 1).Single().Indices);
        CollectionAssert.AreNotEqual(epoch0, Run(otherSeed, 0).Single().Indices);
    }

    [TestMethod]
    public void AbandoningAnEpochStopsTheWorkers()
    {
        var data = new FakeDataset(400) { Delay = TimeSpan.FromMilliseconds(1) };
        var loader = new DataLoader(data, Transforms.Compose(), batchSize: 4, shuffle: true, seed: 1, workers: 3, prefetch: 2);

        int taken = 0;
        foreach (var batch in loader.Epoch(0))
        {
            batch.Dispose();
            if (++taken == 3) break;
        }
        int loadsAtStop = data.Loads;

        // Every thread that loaded a sample has ended, so no load can follow; the workers were real threads, not the caller.
        Assert.IsTrue(data.Loaders.Keys.All(t => !t.IsAlive), "a worker is still running after the enumeration was disposed");
        Assert.IsFalse(data.Loaders.ContainsKey(Thread.CurrentThread), "the samples were loaded on worker threads");
        Assert.AreEqual(loadsAtStop, data.Loads);
        Assert.IsTrue(loadsAtStop <= (taken + loader.Prefetch) * loader.BatchSize, $"prefetch bounds the work ahead; {loadsAtStop} loads");
    }

    [TestMethod]
    public void MixedShapesNameBothSamples()
    {
        var data = new FakeDataset(6, size: 4) { OddSize = { [4] = 5 } };
        var loader = new DataLoader(data, Transforms.Compose(), batchSize: 3, shuffle: false, seed: 0, workers: 2);

        var e = Assert.ThrowsExactly<InvalidDataException>(() => Run(loader, 0));

        StringAssert.Contains(e.Message, "fake-4.png: transformed to 1x5x5");
        StringAssert.Contains(e.Message, "fake-3.png in the same batch is 1x4x4");
    }

    [TestMethod]
    public void TransformErrorsNameTheSample()
    {
        var loader = new DataLoader(new FakeDataset(4), Transforms.Normalize(Preprocessing.ImageNet),
            batchSize: 2, shuffle: false, seed: 0);

        var e = Assert.ThrowsExactly<InvalidOperationException>(() => Run(loader, 0));

        StringAssert.Contains(e.Message, "fake-0.png");
        StringAssert.Contains(e.Message, "GreyToRgb");
    }

    [TestMethod]
    public void FailurePolicyStopsAtTheBadSampleAndReleasesWorkers()
    {
        var data = new FakeDataset(100) { Bad = [13] };
        var loader = new DataLoader(data, Transforms.Compose(), batchSize: 4, shuffle: false, seed: 0, workers: 3, prefetch: 2);
        int seen = 0;

        var e = Assert.ThrowsExactly<BadSampleException>(() =>
        {
            foreach (var batch in loader.Epoch(0))
            {
                seen += batch.Count;
                batch.Dispose();
            }
        });
        Assert.AreEqual(12, seen, "batches before the bad one arrive");
        StringAssert.Contains(e.Message, "fake-13.png");
        Assert.IsTrue(data.Loaders.Keys.All(t => !t.IsAlive), "a worker is still running after the failure reached the consumer");
    }

    [TestMethod]
    public void SkipPolicyDropsEmptyBatches()
    {
        var data = new FakeDataset(9) { Bad = [3, 4, 5, 7], Policy = BadDataPolicy.Skip };
        var loader = new DataLoader(data, Transforms.Compose(), batchSize: 3, shuffle: false, seed: 0, workers: 2);

        var batches = Run(loader, 0);

        CollectionAssert.AreEqual(new[] { 0, 1, 2, 6, 8 }, batches.SelectMany(b => b.Indices).ToArray());
        Assert.AreEqual(2, batches.Count, "the batch of samples 3..5 is empty and not yielded");
        Assert.AreEqual(4, loader.Errors.Skipped);
        CollectionAssert.AreEqual(new[] { 3, 4, 5, 7 }.Select(i => $"fake-{i}.png: not a decodable image").ToArray(), loader.Errors.Messages.ToArray());
    }

    [TestMethod]
    public void TooFewSamplesForOneFullBatchYieldNothingWithDropLast()
    {
        var loader = new DataLoader(new FakeDataset(3), Transforms.Compose(), batchSize: 4, shuffle: true, seed: 0, workers: 2, dropLast: true);

        Assert.AreEqual(0, loader.BatchesPerEpoch);
        Assert.AreEqual(0, Run(loader, 0).Count);
    }

    [TestMethod]
    public void HandBuiltBatchChecksItsTensors()
    {
        using var batch = new Batch(torch.zeros(2, 1, 4, 4), torch.tensor(new long[] { 1, 0 }));
        Assert.AreEqual(2, batch.Count);

        using var images = torch.zeros(2, 1, 4, 4);
        using var labels = torch.tensor(new long[] { 1, 0, 2 });
        var e = Assert.ThrowsExactly<ArgumentException>(() => new Batch(images, labels));
        StringAssert.Contains(e.Message, "expected 2 int64 labels");
    }

    [TestMethod]
    public void BenchmarkCountsTheImagesOfTheBatchesItTook()
    {
        var data = new FakeDataset(60, channels: 3, size: 16);
        var loader = new DataLoader(data, Transforms.RandomResizedCrop(8), batchSize: 8, shuffle: true, seed: 0, prefetch: 2);

        var first = LoaderBenchmark.Measure(loader, maxBatches: 4);
        var whole = LoaderBenchmark.Measure(loader, maxBatches: 100);

        Assert.AreEqual(4, first.Batches);
        Assert.AreEqual(32, first.Images, "four batches of eight");
        Assert.AreEqual(8, whole.Batches, "an epoch of 60 images in batches of 8 has 8 batches, the last one partial");
        Assert.AreEqual(60, whole.Images);
        Assert.IsTrue(whole.Elapsed > TimeSpan.Zero && whole.ImagesPerSecond > 0, "a measured rate");
        Assert.IsTrue(data.Loads <= 32 + 2 * 8 + 60, $"{data.Loads} loads: stopping after four batches leaves at most the prefetch undone");
    }
}
