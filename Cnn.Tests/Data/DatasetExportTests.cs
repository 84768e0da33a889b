using Cnn.Zoo;
using Cnn.Training.Data;

namespace Cnn.Tests.Data;

[TestClass]
public sealed class DatasetExportTests
{
    private static IImageDataset SyntheticIdx(TempFolder temp, byte[] labels, IReadOnlyList<string> classes)
    {
        File.WriteAllBytes(temp.File("src", "images"), TestFiles.IdxImages(TestFiles.PatternImages(labels.Length, 5, 4), 5, 4));
        File.WriteAllBytes(temp.File("src", "labels"), TestFiles.IdxLabels(labels));
        return Datasets.Idx(temp.File("src", "images"), temp.File("src", "labels"), classes);
    }

    [TestMethod]
    public void GreyExportReadsBackExactlyWithOriginalLabels()
    {
        using var temp = new TempFolder();
        var source = SyntheticIdx(temp, [1, 0, 2, 1, 0, 2, 2, 1, 0, 0, 0, 1], ["Zebra", "T-shirt/top", "Ankle boot"]);
        string root = Path.Combine(temp.Path, "export");

        DatasetExport.ToImageFolder(source, root);
        var back = Datasets.ImageFolder(root, BadDataPolicy.Fail, ColorMode.Grey);

        CollectionAssert.AreEqual(new[] { "Zebra", "T-shirt_top", "Ankle boot" }, back.Classes.ToArray());
        Assert.AreEqual(source.Count, back.Count);
        Assert.IsTrue(File.Exists(Path.Combine(root, "T-shirt_top", "00.png")));
        for (int i = 0; i < back.Count; i++)
        {
            int original = int.Parse(Path.GetFileNameWithoutExtension(back.Describe(i)), System.Globalization.CultureInfo.InvariantCulture);
            Assert.AreEqual(source.LabelOf(original), back.LabelOf(i));
            CollectionAssert.AreEqual(source.Load(original).Pixels, back.Load(i).Pixels);
        }
        Assert.IsFalse(Directory.EnumerateFiles(root, "*.tmp", SearchOption.AllDirectories).Any());
    }

    [TestMethod]
    public void PerClassTakesTheFirstSamplesAndRefusesForeignImages()
    {
        using var temp = new TempFolder();
        var source = SyntheticIdx(temp, [1, 0, 2, 1, 0, 2, 2, 1, 0], ["a", "b", "c"]);
        string root = Path.Combine(temp.Path, "export");

        DatasetExport.ToImageFolder(source, root, perClass: 2);
        DatasetExport.ToImageFolder(source, root, perClass: 2); // rerunning the same export is fine

        CollectionAssert.AreEqual(new[] { "1.png", "4.png" }, Directory.GetFiles(Path.Combine(root, "a")).Select(Path.GetFileName).Order().ToArray());
        Assert.AreEqual(6, Datasets.ImageFolder(root).Count);

        var tooMany = Assert.ThrowsExactly<InvalidChoiceException>(() => DatasetExport.ToImageFolder(source, Path.Combine(temp.Path, "other"), perClass: 4));
        StringAssert.Contains(tooMany.Message, "class 'a' (label 0) has 3 samples");

        var foreign = Assert.ThrowsExactly<IOException>(() => DatasetExport.ToImageFolder(source, root, perClass: 1));
        StringAssert.Contains(foreign.Message, Path.Combine(root, "a", "4.png"));
    }
}
