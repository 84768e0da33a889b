using Cnn.Zoo;
using Cnn.Tests.Support;
using Cnn.Training.Data;
using Cnn.Zoo.Models;
using SkiaSharp;

namespace Cnn.Tests.Data;

/// <summary>
/// Opening an image folder decodes every file, so all bad files are reported together before training; the colour
/// mode adapts to the model (grey digits train a 1-channel LeNet-5 however they were saved).
/// </summary>
[TestClass]
public sealed class ImageFolderScanTests
{
    [TestMethod]
    public void EveryBadFileIsListedWithItsProblemAndTheCount()
    {
        using var temp = new TempFolder();
        for (int i = 0; i < 3; i++) File.WriteAllBytes(temp.File("cat", $"good{i}.png"), TestFiles.GradientPng(6, 6));
        var png = TestFiles.GradientPng(32, 32);
        var jpeg = TestFiles.Solid(40, 40, new SKColor(10, 200, 30), SKEncodedImageFormat.Jpeg);
        string empty = temp.File("cat", "empty.jpg"), cut = temp.File("dog", "cut.png"), cutJpeg = temp.File("dog", "cut.jpg");
        string huge = temp.File("dog", "huge.png"), text = temp.File("dog", "text.png");
        File.WriteAllBytes(empty, []);
        File.WriteAllBytes(cut, png[..(png.Length * 2 / 3)]);
        File.WriteAllBytes(cutJpeg, jpeg[..(jpeg.Length / 2)]);
        File.WriteAllBytes(huge, TestFiles.PngClaiming(60000, 60000));
        File.WriteAllText(text, "a note saved with the wrong extension");
        File.WriteAllBytes(temp.File("dog", "fine.jpg"), jpeg);

        var e = Assert.ThrowsExactly<InvalidDataException>(() => Datasets.ImageFolder(temp.Path));

        StringAssert.Contains(e.Message, "5 of 9 image files cannot be used");
        var lines = e.Message.Split(Environment.NewLine);
        StringAssert.Contains(lines.Single(l => l.Contains(empty, StringComparison.Ordinal)), "empty file (0 bytes)");
        StringAssert.Contains(lines.Single(l => l.Contains(cut, StringComparison.Ordinal)), "truncated");
        StringAssert.Contains(lines.Single(l => l.Contains(cutJpeg, StringComparison.Ordinal)), "truncated");
        StringAssert.Contains(lines.Single(l => l.Contains(huge, StringComparison.Ordinal)), "60000x60000");
        StringAssert.Contains(lines.Single(l => l.Contains(text, StringComparison.Ordinal)), "not a decodable image");
        StringAssert.Contains(e.Message, "--bad-data skip");

        var skipped = Datasets.ImageFolder(temp.Path, BadDataPolicy.Skip);
        Assert.AreEqual(4, skipped.Count);
        CollectionAssert.AreEquivalent(new[] { empty, cut, cutJpeg, huge, text }, skipped.LeftOut.Select(f => f.Path).ToArray());
    }

    [TestMethod]
    public void AThousandBadFilesStillMakeAShortMessage()
    {
        using var temp = new TempFolder();
        File.WriteAllBytes(temp.File("a", "good.png"), TestFiles.GradientPng(3, 3));
        for (int i = 0; i < 1000; i++) File.WriteAllBytes(temp.File("a", $"bad{i:D4}.png"), []);

        var e = Assert.ThrowsExactly<InvalidDataException>(() => Datasets.ImageFolder(temp.Path));

        StringAssert.Contains(e.Message, "1,000 of 1,001 image files cannot be used");
        StringAssert.Contains(e.Message, "... and 990 more");
        StringAssert.Contains(e.Message, "bad0000.png");
        Assert.IsFalse(e.Message.Contains("bad0010.png", StringComparison.Ordinal), "only the first ten are named");
        Assert.IsTrue(e.Message.Split(Environment.NewLine).Length <= 14, e.Message);
    }

    [TestMethod]
    public void AnAbsurdHeaderIsRefusedWithoutAllocatingItsPixels()
    {
        using var temp = new TempFolder();
        string bomb = temp.File("bomb.png");
        File.WriteAllBytes(bomb, TestFiles.PngClaiming(20000, 20000)); // 400 M pixels: 1.6 GB of RGBA if decoded

        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.ThrowsExactly<InvalidDataException>(() => ImageCodec.Decode(bomb, ColorMode.Rgb));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        StringAssert.Contains(e.Message, bomb);
        StringAssert.Contains(e.Message, "20000x20000");
        StringAssert.Contains(e.Message, "89,478,485");
        Assert.IsLessThan(1L << 20, allocated, $"refusing the header allocated {allocated:N0} bytes");
    }

    [TestMethod]
    public void ColourBecomesPilsGreyLevelForAOneChannelModel()
    {
        using var temp = new TempFolder();
        // PIL 9.4: Image.new("RGB", (1, 1), colour).convert("L").getpixel((0, 0)) gives 124, 159 and 91.
        (SKColor Colour, int Grey)[] cases = [(new(200, 100, 50), 124), (new(13, 250, 77), 159), (new(255, 0, 128), 91)];
        for (int i = 0; i < cases.Length; i++)
            File.WriteAllBytes(temp.File("c", $"{i}.png"), TestFiles.Solid(2, 2, cases[i].Colour, SKEncodedImageFormat.Png));
        var rgb = Datasets.ImageFolder(temp.Path);
        var grey = Datasets.ImageFolder(temp.Path, BadDataPolicy.Fail, ColorMode.Grey);

        for (int i = 0; i < cases.Length; i++)
        {
            var converted = Transforms.ToChannels(1).Apply(rgb.Load(i), new Random(0));
            Assert.AreEqual("1x2x2", converted.ToString());
            Assert.AreEqual(cases[i].Grey / 255f, converted.Pixels[0], $"colour {cases[i].Colour}");
            CollectionAssert.AreEqual(grey.Load(i).Pixels, converted.Pixels, "converting after decoding equals decoding as grey");
        }
    }

    [TestMethod]
    public void ExportedDigitsTrainLeNet5WithTheIdxValuesWhetherSavedGreyOrRgb()
    {
        var (train, _) = Datasets.IdxFolder(Path.Combine(TestPaths.RepoRoot, "data", "mnist"));
        var digits = Datasets.Subset(train, 2, seed: 0);
        using var temp = new TempFolder();
        DatasetExport.ToImageFolder(digits, temp.File("grey"), null, ImageFileFormat.Png);
        // The same digits written as 3-channel PNGs, as other tools (and PIL's default save of an RGB image) do.
        for (int i = 0; i < digits.Count; i++)
        {
            var rgb = Transforms.GreyToRgb().Apply(digits.Load(i), new Random(0));
            File.WriteAllBytes(temp.File("rgb", digits.Classes[digits.LabelOf(i)], $"{i:D3}.png"), ImageCodec.Encode(rgb, ImageFileFormat.Png, "test"));
        }
        var lenet = new LeNet5().Input;

        foreach (string saved in new[] { "grey", "rgb" })
        {
            var folder = Datasets.ImageFolder(temp.File(saved));   // decoded as RGB, as DataSources.Load does
            Assert.AreEqual(digits.Count, folder.Count);
            Assert.AreEqual(new SampleGeometry(3, 28, 28), folder.Geometry);
            var (_, eval) = DataSetup.Pipeline(folder.Geometry, lenet, new Preprocessing(32, 32, [0.0], [1.0]) { PadSmallSquares = true }, augment: false);
            for (int i = 0; i < folder.Count; i++)
            {
                string name = Path.GetFileNameWithoutExtension(folder.Describe(i));
                var original = digits.Load(int.Parse(name, System.Globalization.CultureInfo.InvariantCulture)).Pixels;
                var input = eval.Apply(folder.Load(i), new Random(0));
                Assert.AreEqual("1x32x32", input.ToString(), saved);
                var inner = Enumerable.Range(0, 28 * 28).Select(p => input.Pixels[(p / 28 + 2) * 32 + p % 28 + 2]).ToArray();
                CollectionAssert.AreEqual(original, inner, $"{saved}/{name}: every pixel keeps its IDX value inside the 2-pixel border");
            }
        }
    }

    /// <summary>A folder whose first image (in file order) is 32x32 and whose others are not.</summary>
    static void WriteMixedSizes(TempFolder temp)
    {
        foreach (string label in new[] { "a", "b" })
            for (int i = 0; i < 8; i++)
                File.WriteAllBytes(temp.File("mixed", label, $"{i:D3}.png"),
                    i == 0 ? TestFiles.GradientPng(32, 32) : TestFiles.GradientPng(30 + 3 * i, 48 - 2 * i));
    }

    [TestMethod]
    public void TheGeometryOfAFolderComesFromEveryImageNotTheFirst()
    {
        using var temp = new TempFolder("geometry");
        WriteMixedSizes(temp);
        var mixed = Datasets.ImageFolder(temp.File("mixed"));
        Assert.AreEqual("32x32", mixed.Load(0).ToString()[2..], "the first image alone would say 32x32");
        Assert.AreEqual(new SampleGeometry(3, null, null), mixed.Geometry);
        Assert.AreEqual(new SampleGeometry(3, null, null), Datasets.Split(mixed, 0.5, seed: 1).Train.Geometry, "a part is transformed as the whole");
        static Preprocessing Recorded(SampleGeometry geometry) => DataSetup.ForTraining("mnist", geometry, 1, 32, augment: false);
        Assert.AreEqual(new Preprocessing(32, 32, [0.1307], [0.3081]), Recorded(mixed.Geometry), "mixed sizes are always resized");
        Assert.IsTrue(Recorded(new SampleGeometry(1, 28, 28)).PadSmallSquares, "MNIST's 28 px are padded to 32");
        Assert.AreEqual(2, Recorded(new SampleGeometry(1, 28, 28)).PaddingFor(28, 28));
        Assert.AreEqual(new Preprocessing(32, 32, [0.1307], [0.3081]), Recorded(new SampleGeometry(1, 28, 30)), "one size, not square: resized");

        File.Delete(temp.File("mixed", "a", "000.png"));
        foreach (string file in Directory.GetFiles(temp.File("mixed"), "*.png", SearchOption.AllDirectories))
            File.WriteAllBytes(file, TestFiles.GradientPng(20, 10));
        Assert.AreEqual(new SampleGeometry(3, 10, 20), Datasets.ImageFolder(temp.File("mixed")).Geometry, "height 10, width 20");
    }

    [TestMethod]
    public void AFolderOfMixedSizesWhoseFirstImageFitsTrainsAndEvaluates()
    {
        using var temp = new TempFolder("mixed-train");
        WriteMixedSizes(temp);
        var train = Cli.CliRunner.Run("train", "--data", temp.File("mixed"), "--input-size", "32", "--epochs", "1",
                                      "--batch-size", "4", "--workers", "1", "--out", temp.File("runs"));
        Assert.AreEqual(0, train.Code, train.Output + train.Error);
        string checkpoint = Path.Combine(Directory.GetDirectories(temp.File("runs")).Single(), "last.ckpt");
        var eval = Cli.CliRunner.Run("eval", "--checkpoint", checkpoint, "--data", temp.File("mixed"));
        Assert.AreEqual(0, eval.Code, eval.Output + eval.Error);
        StringAssert.Contains(eval.Output, ": 4 images,", "the recorded 20% held out: 2 of 8 per class");
    }

    [TestMethod]
    public void GreyDataIsRepeatedForAnRgbModelAndOtherChannelCountsAreRefused()
    {
        var grey = new ImageData([0.25f, 0.5f, 0.75f, 1f], 1, 2, 2);
        var rgbModel = new Cnn.Zoo.Models.InputSpec(3, 2, 2, 2, 2);

        var (_, eval) = DataSetup.Pipeline(SampleGeometry.Of(grey), rgbModel, new Preprocessing(2, 2, [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]), augment: false);
        var out3 = eval.Apply(grey, new Random(0));

        Assert.AreEqual("3x2x2", out3.ToString());
        CollectionAssert.AreEqual(grey.Pixels, out3.Pixels[4..8]);
        var two = new ImageData(new float[8], 2, 2, 2);
        var e = Assert.ThrowsExactly<InvalidChoiceException>(() => DataSetup.Pipeline(SampleGeometry.Of(two), rgbModel, new Preprocessing(2, 2, [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]), false));
        StringAssert.Contains(e.Message, "2-channel images but the model expects 3");
        Assert.AreEqual(ColorMode.Grey, ColorModes.ForChannels(1));
        Assert.AreEqual(ColorMode.Rgb, ColorModes.ForChannels(3));
    }
}
