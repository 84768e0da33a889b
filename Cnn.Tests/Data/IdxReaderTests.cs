using Cnn.Training.Data;

namespace Cnn.Tests.Data;

[TestClass]
public sealed class IdxReaderTests
{
    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void ReadsImagesAndLabels(bool gzip)
    {
        using var temp = new TempFolder();
        var images = TestFiles.PatternImages(5, 3, 4);
        string imagesPath = temp.File("images"), labelsPath = temp.File("labels");
        File.WriteAllBytes(imagesPath, TestFiles.IdxImages(images, 3, 4, gzip));
        File.WriteAllBytes(labelsPath, TestFiles.IdxLabels([2, 0, 1, 2, 0], gzip));

        var data = Datasets.Idx(imagesPath, labelsPath);

        Assert.AreEqual(5, data.Count);
        CollectionAssert.AreEqual(new[] { "0", "1", "2" }, data.Classes.ToArray());
        Assert.AreEqual(1, data.LabelOf(2));
        var image = data.Load(3);
        Assert.AreEqual("1x3x4", image.ToString());
        CollectionAssert.AreEqual(images[3].Select(b => b / 255f).ToArray(), image.Pixels);
        Assert.AreEqual("images #3", data.Describe(3));
    }

    [TestMethod]
    public void GzipIsDetectedByMagicBytesNotByName()
    {
        using var temp = new TempFolder();
        string imagesPath = temp.File("plain-name-idx3-ubyte"), labelsPath = temp.File("labels.gz");
        File.WriteAllBytes(imagesPath, TestFiles.IdxImages(TestFiles.PatternImages(2, 2, 2), 2, 2, gzip: true));
        File.WriteAllBytes(labelsPath, TestFiles.IdxLabels([0, 1], gzip: false));

        var data = Datasets.Idx(imagesPath, labelsPath, ["a", "b"]);

        Assert.AreEqual(2, data.Count);
        Assert.AreEqual("b", data.Classes[data.LabelOf(1)]);
    }

    [TestMethod]
    public void TruncatedImagesFileNamesFileAndExpectedSize()
    {
        using var temp = new TempFolder();
        string imagesPath = temp.File("train-images-idx3-ubyte"), labelsPath = temp.File("train-labels-idx1-ubyte");
        var full = TestFiles.IdxImages(TestFiles.PatternImages(4, 5, 5), 5, 5);
        File.WriteAllBytes(imagesPath, full[..^10]);
        File.WriteAllBytes(labelsPath, TestFiles.IdxLabels([0, 1, 2, 3]));

        var e = Assert.ThrowsExactly<InvalidDataException>(() => Datasets.Idx(imagesPath, labelsPath));

        StringAssert.Contains(e.Message, imagesPath);
        StringAssert.Contains(e.Message, "truncated");
        StringAssert.Contains(e.Message, "expected 116 bytes"); // 16 header + 4 x 5 x 5
        StringAssert.Contains(e.Message, "found 106");
    }

    [TestMethod]
    public void TruncatedGzipNamesFile()
    {
        using var temp = new TempFolder();
        string imagesPath = temp.File("images.gz"), labelsPath = temp.File("labels");
        var gz = TestFiles.IdxImages(TestFiles.PatternImages(50, 10, 10), 10, 10, gzip: true);
        File.WriteAllBytes(imagesPath, gz[..(gz.Length / 2)]);
        File.WriteAllBytes(labelsPath, TestFiles.IdxLabels(new byte[50]));

        var e = Assert.ThrowsExactly<InvalidDataException>(() => Datasets.Idx(imagesPath, labelsPath));

        StringAssert.Contains(e.Message, imagesPath);
        StringAssert.Contains(e.Message, "truncated (once inflated");
    }

    [TestMethod]
    public void SwappedFilesReportBothMagicNumbers()
    {
        using var temp = new TempFolder();
        string imagesPath = temp.File("images"), labelsPath = temp.File("labels");
        File.WriteAllBytes(imagesPath, TestFiles.IdxImages(TestFiles.PatternImages(2, 2, 2), 2, 2));
        File.WriteAllBytes(labelsPath, TestFiles.IdxLabels([0, 1]));

        var e = Assert.ThrowsExactly<InvalidDataException>(() => Datasets.Idx(labelsPath, imagesPath));

        StringAssert.Contains(e.Message, labelsPath);
        StringAssert.Contains(e.Message, "expected IDX magic 0x00000803");
        StringAssert.Contains(e.Message, "found 0x00000801");
        StringAssert.Contains(e.Message, "swapped");
    }

    [TestMethod]
    public void LabelCountMustMatchImageCount()
    {
        using var temp = new TempFolder();
        string imagesPath = temp.File("images"), labelsPath = temp.File("labels");
        File.WriteAllBytes(imagesPath, TestFiles.IdxImages(TestFiles.PatternImages(3, 2, 2), 2, 2));
        File.WriteAllBytes(labelsPath, TestFiles.IdxLabels([0, 1]));

        var e = Assert.ThrowsExactly<InvalidDataException>(() => Datasets.Idx(imagesPath, labelsPath));

        StringAssert.Contains(e.Message, labelsPath);
        StringAssert.Contains(e.Message, "2 labels");
        StringAssert.Contains(e.Message, "3 as in " + imagesPath);
    }

    [TestMethod]
    public void LabelsOutsideTheClassListAreRejected()
    {
        using var temp = new TempFolder();
        string imagesPath = temp.File("images"), labelsPath = temp.File("labels");
        File.WriteAllBytes(imagesPath, TestFiles.IdxImages(TestFiles.PatternImages(3, 2, 2), 2, 2));
        File.WriteAllBytes(labelsPath, TestFiles.IdxLabels([0, 5, 1]));

        var e = Assert.ThrowsExactly<InvalidDataException>(() => Datasets.Idx(imagesPath, labelsPath, ["a", "b", "c"]));

        StringAssert.Contains(e.Message, labelsPath + " #1");
        StringAssert.Contains(e.Message, "expected 0..2");
    }

    [TestMethod]
    public void IdxFolderReadsGzipOrRawAndClassNames()
    {
        using var temp = new TempFolder();
        var images = TestFiles.PatternImages(6, 2, 3);
        File.WriteAllBytes(temp.File("train-images-idx3-ubyte.gz"), TestFiles.IdxImages(images, 2, 3, gzip: true));
        File.WriteAllBytes(temp.File("train-labels-idx1-ubyte.gz"), TestFiles.IdxLabels([0, 1, 1, 0, 1, 0], gzip: true));
        File.WriteAllBytes(temp.File("t10k-images-idx3-ubyte"), TestFiles.IdxImages(images[..2], 2, 3));
        File.WriteAllBytes(temp.File("t10k-labels-idx1-ubyte"), TestFiles.IdxLabels([1, 0]));
        File.WriteAllText(temp.File("classes.txt"), "T-shirt/top\nTrouser\n\n");

        var (train, test) = Datasets.IdxFolder(temp.Path);

        Assert.AreEqual(6, train.Count);
        Assert.AreEqual(2, test.Count);
        CollectionAssert.AreEqual(new[] { "T-shirt/top", "Trouser" }, train.Classes.ToArray());
        CollectionAssert.AreEqual(train.Classes.ToArray(), test.Classes.ToArray());
        Assert.AreEqual("t10k-images-idx3-ubyte #1", test.Describe(1));
    }

    [TestMethod]
    public void IdxFolderNamesTheMissingFile()
    {
        using var temp = new TempFolder();
        File.WriteAllBytes(temp.File("train-images-idx3-ubyte"), TestFiles.IdxImages(TestFiles.PatternImages(1, 2, 2), 2, 2));

        var e = Assert.ThrowsExactly<FileNotFoundException>(() => Datasets.IdxFolder(temp.Path));

        StringAssert.Contains(e.Message, "train-labels-idx1-ubyte or train-labels-idx1-ubyte.gz");
    }
}
