using Cnn.Training.Data;
using Cnn.Zoo;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Tests.Data;

[TestClass]
public sealed class TransformTests
{
    /// <summary>A C x H x W image whose values are a fixed pseudo-random pattern in [0, 1].</summary>
    private static ImageData Pattern(int channels, int height, int width, int seed = 1)
    {
        var rng = new Random(seed);
        var pixels = new float[channels * height * width];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (float)rng.NextDouble();
        return new ImageData(pixels, channels, height, width);
    }

    /// <summary>Pixel value i + 1 at flat position i, so where a value came from is visible.</summary>
    private static ImageData Counting(int channels, int height, int width) =>
        new(Enumerable.Range(1, channels * height * width).Select(v => (float)v).ToArray(), channels, height, width);

    [TestMethod]
    [DataRow(40, 60, 20, 20, 30)]
    [DataRow(60, 40, 20, 30, 20)]
    [DataRow(7, 10, 5, 5, 7)] // longer side truncated: 5 * 10 / 7 = 7.14
    [DataRow(375, 500, 256, 256, 341)]
    public void ResizeScalesTheShorterSide(int height, int width, int size, int expectedHeight, int expectedWidth)
    {
        var output = Transforms.Resize(size).Apply(Pattern(3, height, width), new Random(0));

        Assert.AreEqual($"3x{expectedHeight}x{expectedWidth}", output.ToString());
        Assert.IsTrue(output.Pixels.All(v => v >= 0 && v <= 1), "bilinear output stays within the input range");
    }

    [TestMethod]
    [DataRow(5, 7, 11, 3)]
    [DataRow(12, 9, 5, 4)]
    [DataRow(8, 8, 8, 8)]
    [DataRow(3, 17, 32, 32)]
    public void BilinearMatchesLibtorchInterpolate(int height, int width, int outHeight, int outWidth)
    {
        var image = Pattern(2, height, width);

        var ours = Transforms.ResizeExact(outHeight, outWidth).Apply(image, new Random(0));

        using var input = tensor(image.Pixels, [1, 2, height, width]);
        using var reference = nn.functional.interpolate(input, [outHeight, outWidth], mode: InterpolationMode.Bilinear, align_corners: false);
        var expected = reference.data<float>().ToArray();
        Assert.AreEqual(expected.Length, ours.Pixels.Length);
        for (int i = 0; i < expected.Length; i++) Assert.AreEqual(expected[i], ours.Pixels[i], 1e-5f, $"value {i}");
    }

    [TestMethod]
    public void CenterCropRoundsHalfToEvenAndPadsSmallImages()
    {
        var image = Counting(1, 5, 5);

        var crop = Transforms.CenterCrop(2, 2).Apply(image, new Random(0));
        // torchvision: top = left = round(1.5) = 2, so rows/cols 2..3.
        CollectionAssert.AreEqual(new float[] { 13, 14, 18, 19 }, crop.Pixels);

        var padded = Transforms.CenterCrop(4, 8).Apply(Counting(1, 2, 3), new Random(0));
        // height: pad 1 above, 1 below; width: pad (8 - 3) // 2 = 2 left, 3 right.
        Assert.AreEqual("1x4x8", padded.ToString());
        CollectionAssert.AreEqual(new float[] { 0, 0, 1, 2, 3, 0, 0, 0 }, padded.Pixels[8..16]);
        Assert.AreEqual(21f, padded.Pixels.Sum());
    }

    [TestMethod]
    public void PadAddsZeroBorder()
    {
        var output = Transforms.Pad(2).Apply(Counting(1, 28, 28), new Random(0));

        Assert.AreEqual("1x32x32", output.ToString());
        Assert.AreEqual(0f, output.Pixels[0]);
        Assert.AreEqual(1f, output.Pixels[2 * 32 + 2]);
        Assert.AreEqual(784f, output.Pixels[29 * 32 + 29]);
        Assert.AreEqual(784 * 785 / 2f, output.Pixels.Sum());
    }

    [TestMethod]
    public void RandomCropIsAShiftedWindowOfThePaddedImage()
    {
        var image = Counting(3, 8, 8);
        var transform = Transforms.RandomCrop(8, padding: 2);
        var offsets = new HashSet<(int, int)>();
        for (int seed = 0; seed < 40; seed++)
        {
            var output = transform.Apply(image, new Random(seed));
            Assert.AreEqual("3x8x8", output.ToString());
            // Find the window offset from any non-zero pixel, then check every pixel against it.
            int at = Array.FindIndex(output.Pixels, v => v != 0);
            int source = (int)output.Pixels[at] - 1;
            int dy = (at / 8) % 8 - (source / 8) % 8, dx = at % 8 - source % 8;
            offsets.Add((dy, dx));
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < 8; y++)
                    for (int x = 0; x < 8; x++)
                    {
                        int sy = y - dy, sx = x - dx;
                        float expected = sy is >= 0 and < 8 && sx is >= 0 and < 8 ? image.Pixels[c * 64 + sy * 8 + sx] : 0;
                        Assert.AreEqual(expected, output.Pixels[c * 64 + y * 8 + x]);
                    }
            Assert.IsTrue(Math.Abs(dy) <= 2 && Math.Abs(dx) <= 2);
        }
        Assert.IsTrue(offsets.Count > 5, "crops move around");
    }

    [TestMethod]
    public void RandomResizedCropHasFixedSizeAndIsSeeded()
    {
        var image = Pattern(3, 60, 90);
        var transform = Transforms.RandomResizedCrop(32);

        var first = transform.Apply(image, new Random(5));
        var again = transform.Apply(image, new Random(5));
        var other = transform.Apply(image, new Random(6));

        Assert.AreEqual("3x32x32", first.ToString());
        CollectionAssert.AreEqual(first.Pixels, again.Pixels);
        CollectionAssert.AreNotEqual(first.Pixels, other.Pixels);
        Assert.IsTrue(first.Pixels.All(v => v >= 0 && v <= 1));

        var flat = new ImageData(Enumerable.Repeat(0.25f, 3 * 10 * 200).ToArray(), 3, 10, 200);
        var fromExtreme = Transforms.RandomResizedCrop(16, 0.9, 1.0).Apply(flat, new Random(1)); // falls back to a central 4:3 crop
        Assert.IsTrue(fromExtreme.Pixels.All(v => Math.Abs(v - 0.25f) < 1e-6f));
    }

    [TestMethod]
    public void HorizontalFlipMirrorsRows()
    {
        var image = Counting(2, 2, 3);

        CollectionAssert.AreEqual(new float[] { 3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10 }, Transforms.HorizontalFlip(1).Apply(image, new Random(0)).Pixels);
        Assert.AreSame(image, Transforms.HorizontalFlip(0).Apply(image, new Random(0)));
    }

    [TestMethod]
    public void GreyToRgbAndNormalize()
    {
        var grey = new ImageData([0f, 0.5f, 1f, 0.25f], 1, 2, 2);

        var rgb = Transforms.GreyToRgb().Apply(grey, new Random(0));
        Assert.AreEqual("3x2x2", rgb.ToString());
        CollectionAssert.AreEqual(grey.Pixels, rgb.Pixels[8..12]);

        var normalized = Transforms.Normalize(Preprocessing.ImageNet).Apply(rgb, new Random(0));
        Assert.AreEqual((0.5f - 0.485f) / 0.229f, normalized.Pixels[1], 1e-6f);
        Assert.AreEqual((1f - 0.406f) / 0.225f, normalized.Pixels[10], 1e-6f);

        var e = Assert.ThrowsExactly<ArgumentException>(() => Transforms.Normalize(Preprocessing.ImageNet).Apply(grey, new Random(0)));
        StringAssert.Contains(e.Message, "1x2x2");
        StringAssert.Contains(e.Message, "GreyToRgb");
    }

    [TestMethod]
    public void ComposeAppliesInOrderAndDescribesItself()
    {
        var transform = Transforms.Compose(Transforms.Pad(2), Transforms.GreyToRgb(), Transforms.Normalize([0.5f, 0.5f, 0.5f], [0.5f, 0.5f, 0.5f]));

        var output = transform.Apply(new ImageData(new float[28 * 28], 1, 28, 28), new Random(0));

        Assert.AreEqual("3x32x32", output.ToString());
        Assert.IsTrue(output.Pixels.All(v => v == -1f));
        Assert.AreEqual("Compose(Pad(2), GreyToRgb(), Normalize(mean=[0.5, 0.5, 0.5], std=[0.5, 0.5, 0.5]))", transform.ToString());
    }

    [TestMethod]
    public void TransformsDoNotModifyTheirInput()
    {
        var image = Pattern(3, 20, 24);
        var copy = (float[])image.Pixels.Clone();
        var all = Transforms.Compose(Transforms.RandomResizedCrop(16), Transforms.HorizontalFlip(1), Transforms.RandomCrop(16, 2),
            Transforms.Normalize(Preprocessing.ImageNet));

        all.Apply(image, new Random(3));

        CollectionAssert.AreEqual(copy, image.Pixels);
    }
}
