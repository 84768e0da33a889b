using Cnn.Training.Data;
using SkiaSharp;
using TorchSharp;

namespace Cnn.Tests.Data;

/// <summary>
/// The loader decodes and augments on several threads while the model trains on another: nothing they share may
/// change a result. Many concurrent loads must equal single-threaded ones, and batches must not depend on state another
/// thread can change (TorchSharp's default device is process-wide).
/// </summary>
[TestClass]
public sealed class ConcurrentLoadingTests
{
    /// <summary>PNG, JPEG and WebP files of different sizes and colours, so every decoder runs.</summary>
    static ImageFolderDataset MixedFolder(TempFolder temp, int perFormat)
    {
        for (int i = 0; i < perFormat; i++)
        {
            var colour = new SKColor((byte)(i * 37), (byte)(255 - i * 11), (byte)(i * 5));
            File.WriteAllBytes(temp.File($"c{i % 3}", $"g{i:D2}.png"), TestFiles.GradientPng(9 + i, 7 + i % 5));
            File.WriteAllBytes(temp.File($"c{i % 3}", $"j{i:D2}.jpg"), TestFiles.Solid(16 + i, 12, colour, SKEncodedImageFormat.Jpeg));
            File.WriteAllBytes(temp.File($"c{i % 3}", $"w{i:D2}.webp"), TestFiles.Solid(10, 10 + i, colour, SKEncodedImageFormat.Webp));
        }
        return Datasets.ImageFolder(temp.Path);
    }

    [TestMethod]
    public void SixteenThreadsDecodingTheSameFilesGetTheSinglethreadedPixels()
    {
        using var temp = new TempFolder();
        var data = MixedFolder(temp, perFormat: 8);
        var augment = Transforms.Compose(Transforms.RandomResizedCrop(12), Transforms.HorizontalFlip(), Transforms.ToChannels(1));
        var expected = Enumerable.Range(0, data.Count).Select(i => augment.Apply(data.Load(i), new Random(i)).Pixels).ToArray();

        var mismatches = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 16 * data.Count, new ParallelOptions { MaxDegreeOfParallelism = 16 }, n =>
        {
            int i = n % data.Count;
            var pixels = augment.Apply(data.Load(i), new Random(i)).Pixels;
            if (!pixels.AsSpan().SequenceEqual(expected[i])) mismatches.Add(data.Describe(i));
        });

        Assert.IsEmpty(mismatches, string.Join(", ", mismatches.Distinct()));
    }

    [TestMethod]
    public void BatchesFromManyWorkersEqualBatchesFromTheCallingThreadEpochAfterEpoch()
    {
        using var temp = new TempFolder();
        var data = MixedFolder(temp, perFormat: 10);
        var augment = Transforms.Compose(Transforms.RandomResizedCrop(16), Transforms.HorizontalFlip(), Transforms.Normalize(
            Cnn.Zoo.Preprocessing.ImageNet));
        static List<float[]> Epoch(DataLoader loader, int epoch)
        {
            var result = new List<float[]>();
            foreach (var batch in loader.Epoch(epoch))
            {
                using (batch) result.Add(batch.Images.data<float>().ToArray());
            }
            return result;
        }

        for (int epoch = 0; epoch < 3; epoch++)
        {
            var single = Epoch(new DataLoader(data, augment, batchSize: 4, shuffle: true, seed: 5, workers: 0), epoch);
            var many = Epoch(new DataLoader(data, augment, batchSize: 4, shuffle: true, seed: 5, workers: 6, prefetch: 12), epoch);
            Assert.HasCount(single.Count, many);
            for (int b = 0; b < single.Count; b++)
                CollectionAssert.AreEqual(single[b], many[b], $"epoch {epoch}, batch {b}");
        }
    }

    [TestMethod]
    public void BatchesAreMadeOnTheCpuWhateverTheProcessWideDefaultDevice()
    {
        var data = new FakeDataset(24, channels: 1, size: 4);
        var loader = new DataLoader(data, Transforms.Compose(), batchSize: 4, shuffle: false, seed: 0, workers: 2);
        var previous = torch.get_default_device();
        torch.set_default_device(torch.META);  // what another thread may do meanwhile (ArchitectureMatch does, briefly)
        try
        {
            foreach (var batch in loader.Epoch(0))
            {
                using (batch)
                {
                    Assert.AreEqual(DeviceType.CPU, batch.Images.device_type);
                    Assert.AreEqual(DeviceType.CPU, batch.Labels.device_type);
                }
            }
        }
        finally
        {
            torch.set_default_device(previous);
        }
    }
}
