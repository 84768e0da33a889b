using Cnn.Training.Data;
using SkiaSharp;

namespace Cnn.Tests.Data;

[TestClass]
public sealed class ImageFolderTests
{
    /// <summary>cat: a gradient PNG and a red JPEG; dog: a grey PNG and a blue WebP; plus files and folders to ignore.</summary>
    private static void WriteFolder(TempFolder temp)
    {
        File.WriteAllBytes(temp.File("cat", "b.png"), TestFiles.GradientPng(6, 4));
        File.WriteAllBytes(temp.File("cat", "a.JPG"), TestFiles.Solid(16, 8, new SKColor(220, 30, 30), SKEncodedImageFormat.Jpeg));
        File.WriteAllText(temp.File("cat", "notes.txt"), "not an image");
        File.WriteAllBytes(temp.File("dog", "grey.png"), TestFiles.Solid(5, 5, new SKColor(90, 90, 90), SKEncodedImageFormat.Png));
        File.WriteAllBytes(temp.File("dog", "nested", "blue.webp"), TestFiles.Solid(7, 3, new SKColor(0, 0, 250), SKEncodedImageFormat.Webp));
        File.WriteAllBytes(temp.File(".ipynb_checkpoints", "x.png"), TestFiles.GradientPng(2, 2));
        File.WriteAllBytes(temp.File("dog", ".hidden.png"), [1, 2, 3]);
    }

    [TestMethod]
    public void ReadsPngJpegAndWebpInOrdinalOrder()
    {
        using var temp = new TempFolder();
        WriteFolder(temp);

        var data = Datasets.ImageFolder(temp.Path);

        CollectionAssert.AreEqual(new[] { "cat", "dog" }, data.Classes.ToArray());
        Assert.AreEqual(4, data.Count);
        CollectionAssert.AreEqual(new[] { "a.JPG", "b.png", "grey.png", "blue.webp" },
            Enumerable.Range(0, 4).Select(i => Path.GetFileName(data.Describe(i))).ToArray());
        CollectionAssert.AreEqual(new[] { 0, 0, 1, 1 }, Enumerable.Range(0, 4).Select(data.LabelOf).ToArray());

        var jpeg = data.Load(0);
        Assert.AreEqual("3x8x16", jpeg.ToString());
        Assert.AreEqual(220 / 255f, jpeg.Pixels[0], 4 / 255f, "JPEG red channel");
        Assert.AreEqual(30 / 255f, jpeg.Pixels[jpeg.PlaneSize], 4 / 255f, "JPEG green channel");

        var png = data.Load(1); // pixel (x, y) = (10x, 20y, 200): exact, and row-major with x fastest
        Assert.AreEqual("3x4x6", png.ToString());
        int x = 5, y = 3, at = y * 6 + x;
        Assert.AreEqual(50 / 255f, png.Pixels[at]);
        Assert.AreEqual(60 / 255f, png.Pixels[png.PlaneSize + at]);
        Assert.AreEqual(200 / 255f, png.Pixels[2 * png.PlaneSize + at]);

        var grey = data.Load(2);
        Assert.AreEqual(3, grey.Channels, "image folders decode to RGB by default");
        Assert.IsTrue(grey.Pixels.All(v => v == 90 / 255f));

        var webp = data.Load(3);
        Assert.AreEqual("3x3x7", webp.ToString());
        Assert.AreEqual(250 / 255f, webp.Pixels[2 * webp.PlaneSize], 4 / 255f, "WebP blue channel");
    }

    [TestMethod]
    public void GreyModeUsesPilLuma()
    {
        using var temp = new TempFolder();
        File.WriteAllBytes(temp.File("a", "x.png"), TestFiles.Solid(3, 2, new SKColor(200, 100, 50), SKEncodedImageFormat.Png));

        var image = Datasets.ImageFolder(temp.Path, BadDataPolicy.Fail, ColorMode.Grey).Load(0);

        Assert.AreEqual("1x2x3", image.ToString());
        int luma = (200 * 19595 + 100 * 38470 + 50 * 7471 + 0x8000) >> 16; // PIL convert("L"): 124
        Assert.AreEqual(luma / 255f, image.Pixels[0]);
    }

    [TestMethod]
    public void EmptyClassFolderIsNamed()
    {
        using var temp = new TempFolder();
        File.WriteAllBytes(temp.File("cat", "a.png"), TestFiles.GradientPng(2, 2));
        File.WriteAllText(temp.File("dog", "readme.txt"), "no pictures here");

        var e = Assert.ThrowsExactly<InvalidDataException>(() => Datasets.ImageFolder(temp.Path));

        StringAssert.Contains(e.Message, Path.Combine(temp.Path, "dog"));
        StringAssert.Contains(e.Message, "'dog' holds no images");
        StringAssert.Contains(e.Message, ".png");
    }

    [TestMethod]
    public void RootWithoutClassFoldersIsAnError()
    {
        using var temp = new TempFolder();
        File.WriteAllBytes(temp.File("loose.png"), TestFiles.GradientPng(2, 2));

        var e = Assert.ThrowsExactly<InvalidDataException>(() => Datasets.ImageFolder(temp.Path));

        StringAssert.Contains(e.Message, "one sub-folder per class");
    }

    [TestMethod]
    [DataRow("garbage")]
    [DataRow("truncated")]
    public void CorruptImageFailsNamingTheFileBeforeAnyEpoch(string damage)
    {
        using var temp = new TempFolder();
        File.WriteAllBytes(temp.File("cat", "good.png"), TestFiles.GradientPng(4, 4));
        var png = TestFiles.GradientPng(24, 24);
        string bad = temp.File("cat", "bad.png");
        File.WriteAllBytes(bad, damage == "garbage" ? [0x89, 0x50, 0x00, 0x01, 0x02] : png[..(png.Length / 2)]);

        var e = Assert.ThrowsExactly<InvalidDataException>(() => Datasets.ImageFolder(temp.Path));

        StringAssert.Contains(e.Message, bad);
        StringAssert.Contains(e.Message, "1 of 2 image files cannot be used");
        StringAssert.Contains(e.Message, damage == "garbage" ? "not a decodable image" : "truncated");
    }

    [TestMethod]
    public void AFileThatBreaksAfterTheScanFailsOrIsSkippedByTheLoader()
    {
        using var temp = new TempFolder();
        File.WriteAllBytes(temp.File("cat", "good.png"), TestFiles.GradientPng(4, 4));
        string later = temp.File("cat", "later.png");
        File.WriteAllBytes(later, TestFiles.GradientPng(5, 5));
        var failing = Datasets.ImageFolder(temp.Path);
        var skipping = Datasets.ImageFolder(temp.Path, BadDataPolicy.Skip);
        File.WriteAllText(later, "overwritten while training");
        int laterIndex = Enumerable.Range(0, failing.Count).Single(i => failing.Describe(i) == later);

        var e = Assert.ThrowsExactly<BadSampleException>(() => failing.Load(laterIndex));
        StringAssert.Contains(e.Message, later);
        Assert.AreEqual(BadDataPolicy.Fail, e.Policy);
        var loader = new DataLoader(failing, Transforms.ResizeExact(4, 4), batchSize: 2, shuffle: false, seed: 1, workers: 2);
        StringAssert.Contains(Assert.ThrowsExactly<BadSampleException>(() => loader.Epoch(0).ToList().ForEach(b => b.Dispose())).Message, later);

        var skipper = new DataLoader(skipping, Transforms.ResizeExact(4, 4), batchSize: 2, shuffle: false, seed: 1, workers: 2);
        var seen = new List<int>();
        foreach (var batch in skipper.Epoch(0))
        {
            using (batch) seen.AddRange(batch.Indices);
        }
        Assert.HasCount(1, seen);
        StringAssert.Contains(skipper.Errors.Messages.Single(), later);
    }

    [TestMethod]
    public void SkipPolicyLeavesCorruptImagesOutAtTheScanAndListsThem()
    {
        using var temp = new TempFolder();
        for (int i = 0; i < 5; i++) File.WriteAllBytes(temp.File("cat", $"{i}.png"), TestFiles.GradientPng(3 + i, 5));
        File.WriteAllBytes(temp.File("dog", "0.png"), TestFiles.GradientPng(4, 4));
        string bad = temp.File("dog", "1.png");
        File.WriteAllText(bad, "this is not a PNG");
        var data = Datasets.ImageFolder(temp.Path, BadDataPolicy.Skip);
        var loader = new DataLoader(data, Transforms.ResizeExact(4, 4), batchSize: 3, shuffle: true, seed: 7, workers: 2);

        Assert.AreEqual(6, data.Count);
        Assert.AreEqual(bad, data.LeftOut.Single().Path);
        StringAssert.Contains(data.LeftOut.Single().Problem, "not a decodable image");
        CollectionAssert.AreEqual(new[] { 0, 0, 0, 0, 0, 1 }, Enumerable.Range(0, 6).Select(data.LabelOf).ToArray(), "labels follow their files");
        for (int epoch = 0; epoch < 2; epoch++)
        {
            var seen = new List<int>();
            foreach (var batch in loader.Epoch(epoch))
            {
                using (batch) seen.AddRange(batch.Indices);
            }
            Assert.AreEqual(6, seen.Count);
            Assert.IsFalse(seen.Any(i => data.Describe(i) == bad));
        }
        Assert.AreEqual(0, loader.Errors.Skipped, "nothing is left to skip while training");
    }

    [TestMethod]
    public void ClassesTxtSetsLabelOrderAndMustMatchTheFolders()
    {
        using var temp = new TempFolder();
        File.WriteAllBytes(temp.File("b", "x.png"), TestFiles.GradientPng(2, 2));
        File.WriteAllBytes(temp.File("a", "x.png"), TestFiles.GradientPng(2, 2));
        File.WriteAllText(temp.File("classes.txt"), "b\na\n");

        var data = Datasets.ImageFolder(temp.Path);
        CollectionAssert.AreEqual(new[] { "b", "a" }, data.Classes.ToArray());
        Assert.AreEqual(0, data.LabelOf(0));
        StringAssert.Contains(data.Describe(0), Path.Combine("b", "x.png"));

        File.WriteAllText(temp.File("classes.txt"), "b\n");
        var e = Assert.ThrowsExactly<InvalidDataException>(() => Datasets.ImageFolder(temp.Path));
        StringAssert.Contains(e.Message, "does not list sub-folder(s) 'a'");
    }
}
