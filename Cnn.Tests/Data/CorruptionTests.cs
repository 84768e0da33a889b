using Cnn.Tests.Support;
using Cnn.Training.Data;
using SkiaSharp;

namespace Cnn.Tests.Data;

/// <summary>
/// Seeded truncations and byte flips of every data reader's files: each damaged copy either loads completely or is
/// refused with an <see cref="InvalidDataException"/> naming the file; nothing else, no crash, no hang.
/// </summary>
[TestClass]
public sealed class CorruptionTests
{
    static bool Documented(Exception e) => e is InvalidDataException;

    /// <summary>Loads every sample, as an epoch would.</summary>
    static void LoadAll(IImageDataset data)
    {
        for (int i = 0; i < data.Count; i++)
        {
            _ = data.LabelOf(i);
            _ = data.Load(i);
        }
    }

    [TestMethod]
    [DataRow(false, "images")]
    [DataRow(false, "labels")]
    [DataRow(true, "images")]
    [DataRow(true, "labels")]
    public void IdxFiles(bool gzip, string damaged)
    {
        using var temp = new TempFolder();
        string images = temp.File("train-images-idx3-ubyte"), labels = temp.File("train-labels-idx1-ubyte");
        File.WriteAllBytes(images, TestFiles.IdxImages(TestFiles.PatternImages(12, 8, 8), 8, 8, gzip));
        File.WriteAllBytes(labels, TestFiles.IdxLabels([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1], gzip));
        string path = damaged == "images" ? images : labels;

        var outcome = Corruption.Run($"IDX {damaged}{(gzip ? " (gzip)" : "")}", path, File.ReadAllBytes(path),
                                     () => LoadAll(Datasets.Idx(images, labels)), Documented, seed: gzip ? 11 : 12);

        Assert.IsGreaterThan(0, outcome.Rejected);
    }

    [TestMethod]
    public void CifarBatch()
    {
        using var temp = new TempFolder();
        foreach (string name in new[] { "data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch" })
            File.WriteAllBytes(temp.File(name + ".bin"), TestFiles.CifarRecords((3, 10, 20, 30), (9, 200, 100, 0)));
        string batch = temp.File("data_batch_1.bin");

        var outcome = Corruption.Run("CIFAR-10 batch", batch, File.ReadAllBytes(batch),
                                     () => LoadAll(Datasets.Cifar10(temp.Path).Train), Documented, seed: 21);

        Assert.IsGreaterThan(0, outcome.Rejected);
        Assert.IsGreaterThan(0, outcome.Loaded, "a flipped pixel is still a picture");
    }

    [TestMethod]
    [DataRow("png")]
    [DataRow("jpg")]
    public void ImageFolderFile(string extension)
    {
        using var temp = new TempFolder();
        File.WriteAllBytes(temp.File("a", "fine.png"), TestFiles.GradientPng(9, 7));
        File.WriteAllBytes(temp.File("b", "fine.jpg"), TestFiles.Solid(12, 10, new SKColor(40, 90, 200), SKEncodedImageFormat.Jpeg));
        string damaged = temp.File("b", "victim." + extension);
        byte[] original = extension == "png"
            ? TestFiles.GradientPng(20, 16)
            : TestFiles.Solid(24, 16, new SKColor(250, 120, 10), SKEncodedImageFormat.Jpeg);

        var outcome = Corruption.Run($"image folder ({extension.ToUpperInvariant()})", damaged, original,
                                     () => LoadAll(Datasets.ImageFolder(temp.Path)), Documented, seed: extension.Length + 30);

        Assert.IsGreaterThan(0, outcome.Rejected);
    }
}
