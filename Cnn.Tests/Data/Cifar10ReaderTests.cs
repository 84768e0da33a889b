using Cnn.Training.Data;

namespace Cnn.Tests.Data;

[TestClass]
public sealed class Cifar10ReaderTests
{
    private static void WriteBatches(string folder, bool meta)
    {
        Directory.CreateDirectory(folder);
        for (int i = 1; i <= 5; i++)
            File.WriteAllBytes(Path.Combine(folder, $"data_batch_{i}.bin"),
                TestFiles.CifarRecords(((byte)i, (byte)(10 * i), 100, 200), ((byte)(i + 4), 0, 0, 255)));
        File.WriteAllBytes(Path.Combine(folder, "test_batch.bin"), TestFiles.CifarRecords((9, 255, 128, 0)));
        if (meta) File.WriteAllText(Path.Combine(folder, "batches.meta.txt"), string.Join("\n", Enumerable.Range(0, 10).Select(c => $"c{c}")) + "\n\n");
    }

    [TestMethod]
    public void ReadsRecordsAsChwPlanes()
    {
        using var temp = new TempFolder();
        WriteBatches(temp.Path, meta: true);

        var (train, test) = Datasets.Cifar10(temp.Path);

        Assert.AreEqual(10, train.Count);
        Assert.AreEqual(1, test.Count);
        Assert.AreEqual("c3", train.Classes[3]);
        Assert.AreEqual(3, train.LabelOf(4)); // data_batch_3.bin, record 0
        Assert.AreEqual(7, train.LabelOf(5)); // data_batch_3.bin, record 1
        Assert.AreEqual("data_batch_3.bin #1", train.Describe(5));
        var image = train.Load(4);
        Assert.AreEqual("3x32x32", image.ToString());
        Assert.AreEqual(30 / 255f, image.Pixels[0]);
        Assert.AreEqual(100 / 255f, image.Pixels[1024]);
        Assert.AreEqual(200 / 255f, image.Pixels[3071]);
        Assert.AreEqual(9, test.LabelOf(0));
    }

    [TestMethod]
    public void FindsTheOfficialArchiveFolderAndDefaultsClassNames()
    {
        using var temp = new TempFolder();
        WriteBatches(Path.Combine(temp.Path, "cifar-10-batches-bin"), meta: false);

        var (train, _) = Datasets.Cifar10(temp.Path);

        Assert.AreEqual("airplane", train.Classes[0]);
        Assert.AreEqual("truck", train.Classes[9]);
    }

    [TestMethod]
    public void WrongFileSizeNamesFileAndRecordSize()
    {
        using var temp = new TempFolder();
        WriteBatches(temp.Path, meta: false);
        string bad = Path.Combine(temp.Path, "data_batch_2.bin");
        File.WriteAllBytes(bad, File.ReadAllBytes(bad)[..^7]);

        var e = Assert.ThrowsExactly<InvalidDataException>(() => Datasets.Cifar10(temp.Path));

        StringAssert.Contains(e.Message, bad);
        StringAssert.Contains(e.Message, "3073-byte");
        StringAssert.Contains(e.Message, "found 6,139 bytes");
    }

    [TestMethod]
    public void MissingBatchIsNamed()
    {
        using var temp = new TempFolder();
        WriteBatches(temp.Path, meta: false);
        File.Delete(Path.Combine(temp.Path, "data_batch_4.bin"));

        var e = Assert.ThrowsExactly<FileNotFoundException>(() => Datasets.Cifar10(temp.Path));

        StringAssert.Contains(e.Message, "missing data_batch_4.bin");
    }
}
