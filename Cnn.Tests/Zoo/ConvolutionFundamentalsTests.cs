using Cnn.Zoo.Analysis;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Tests.Zoo;

/// <summary>The worked examples of the course notes (shared/SEED.md), and the reference ops against libtorch.</summary>
[TestClass]
public sealed class ConvolutionFundamentalsTests
{
    [TestMethod]
    public void VerticalEdgeFilterOnSixBySixGivesFourByFourWithRowsZeroThirtyThirtyZero()
    {
        var image = new float[1, 6, 6];
        for (int y = 0; y < 6; y++)
        for (int x = 0; x < 3; x++) image[0, y, x] = 10;
        var filter = new float[1, 1, 3, 3];
        for (int y = 0; y < 3; y++) { filter[0, 0, y, 0] = 1; filter[0, 0, y, 2] = -1; }

        var output = ReferenceOps.CrossCorrelate(image, filter);

        Assert.AreEqual(4, output.GetLength(1));
        Assert.AreEqual(4, output.GetLength(2));
        for (int y = 0; y < 4; y++)
            CollectionAssert.AreEqual(new float[] { 0, 30, 30, 0 }, Enumerable.Range(0, 4).Select(x => output[0, y, x]).ToArray());
    }

    [TestMethod]
    public void PaddingOneMakesSixBySixEightByEightAndSameConvolutionKeepsSix()
    {
        var padded = ReferenceOps.ZeroPad(new float[1, 6, 6], 1);
        Assert.AreEqual(8, padded.GetLength(1));
        Assert.AreEqual(8, padded.GetLength(2));
        Assert.AreEqual(6, ConvArithmetic.OutputSize(8, 3));
        Assert.AreEqual(1, ConvArithmetic.SamePadding(3));
        Assert.AreEqual(6, ConvArithmetic.OutputSize(6, 3, 1, ConvArithmetic.SamePadding(3)));
        Assert.AreEqual(6, ReferenceOps.CrossCorrelate(new float[1, 6, 6], new float[1, 1, 3, 3], padding: 1).GetLength(1));
    }

    [TestMethod]
    public void StridedPaddedExampleGivesTenByEleven()
        => Assert.AreEqual((10L, 11L), ConvArithmetic.OutputSize((28, 31), kernel: 5, stride: 3, padding: 2));

    [TestMethod]
    public void OutputSideIsFlooredWhenTheDivisionIsNotExact()
    {
        // (7 + 0 - 3) / 2 + 1 = 3; (8 - 3) / 2 = 2.5 floors to 2, + 1 = 3.
        Assert.AreEqual(3, ConvArithmetic.OutputSize(7, 3, 2));
        Assert.AreEqual(3, ConvArithmetic.OutputSize(8, 3, 2));
        Assert.AreEqual(4, ConvArithmetic.OutputSize(8, 3, 2, ceilMode: true));
        Assert.AreEqual(3, ConvArithmetic.OutputSize(7, 3, 2, ConvArithmetic.ValidPadding));
    }

    [TestMethod]
    public void ArithmeticAgreesWithLibtorchIncludingDilationAndCeilMode()
    {
        foreach (var (n, f, s, p, d) in new[] { (13, 3, 2, 1, 1), (28, 5, 1, 0, 1), (17, 3, 3, 2, 2), (224, 7, 2, 3, 1) })
        {
            using var x = torch.zeros(1, 1, n, n);
            using var w = torch.zeros(1, 1, f, f);
            using var y = nn.functional.conv2d(x, w, strides: [s, s], padding: [p, p], dilation: [d, d]);
            Assert.AreEqual(y.shape[2], ConvArithmetic.OutputSize(n, f, s, p, d), $"n={n} f={f} s={s} p={p} d={d}");
        }
        using var z = torch.zeros(1, 1, 112, 112);
        using var pooled = nn.functional.max_pool2d(z, 3, 2, 0, 1, ceil_mode: true);
        Assert.AreEqual(pooled.shape[2], ConvArithmetic.OutputSize(112, 3, 2, ceilMode: true));
    }

    [TestMethod]
    public void BadArgumentsGetMessagesThatNameTheProblem()
    {
        var e = Assert.ThrowsExactly<ArgumentException>(() => ConvArithmetic.OutputSize(3, 5));
        StringAssert.Contains(e.Message, "does not fit");
        Assert.ThrowsExactly<ArgumentException>(() => ConvArithmetic.SamePadding(4));
        var bad = Assert.ThrowsExactly<ArgumentException>(() => ReferenceOps.CrossCorrelate(new float[3, 6, 6], new float[1, 2, 3, 3]));
        StringAssert.Contains(bad.Message, "3 input channels");
    }

    [TestMethod]
    public void MultiChannelManyFilterCrossCorrelationMatchesLibtorchConv2d()
    {
        var rng = new Random(7);
        foreach (var (stride, padding) in new[] { (1, 0), (2, 1), (3, 2) })
        {
            var input = new float[3, 9, 11];
            var filters = new float[4, 3, 3, 3];
            var bias = new float[4];
            Fill(input, rng); Fill(filters, rng);
            for (int i = 0; i < 4; i++) bias[i] = (float)rng.NextDouble();

            var expected = ReferenceOps.CrossCorrelate(input, filters, bias, stride, padding);
            using var x = torch.tensor(input.Cast<float>().ToArray(), [1, 3, 9, 11]);
            using var w = torch.tensor(filters.Cast<float>().ToArray(), [4, 3, 3, 3]);
            using var b = torch.tensor(bias);
            using var y = nn.functional.conv2d(x, w, b, strides: [stride, stride], padding: [padding, padding]);

            Assert.AreEqual(expected.GetLength(1), y.shape[2]);
            Assert.AreEqual(expected.GetLength(2), y.shape[3]);
            AssertClose(expected.Cast<float>().ToArray(), y.data<float>().ToArray(), 1e-4f);
        }
    }

    [TestMethod]
    public void PoolingMatchesLibtorchAndHalvesHeightAndWidthKeepingChannels()
    {
        var input = new float[5, 8, 8];
        Fill(input, new Random(3));
        using var x = torch.tensor(input.Cast<float>().ToArray(), [1, 5, 8, 8]);
        using var max = nn.functional.max_pool2d(x, 2, 2);
        using var avg = nn.functional.avg_pool2d(x, 2, 2);
        var refMax = ReferenceOps.MaxPool(input, 2, 2);
        var refAvg = ReferenceOps.AvgPool(input, 2, 2);
        CollectionAssert.AreEqual(new[] { 5, 4, 4 }, new[] { refMax.GetLength(0), refMax.GetLength(1), refMax.GetLength(2) });
        AssertClose(refMax.Cast<float>().ToArray(), max.data<float>().ToArray(), 0);
        AssertClose(refAvg.Cast<float>().ToArray(), avg.data<float>().ToArray(), 1e-6f);
        // 3x3/2 overlapping pooling as in AlexNet.
        using var overlap = nn.functional.max_pool2d(x, 3, 2);
        AssertClose(ReferenceOps.MaxPool(input, 3, 2).Cast<float>().ToArray(), overlap.data<float>().ToArray(), 0);
    }

    static void Fill(Array array, Random rng)
    {
        var indices = new int[array.Rank];
        void Walk(int d)
        {
            if (d == array.Rank) { array.SetValue((float)(rng.NextDouble() * 2 - 1), indices); return; }
            for (indices[d] = 0; indices[d] < array.GetLength(d); indices[d]++) Walk(d + 1);
        }
        Walk(0);
    }

    static void AssertClose(float[] expected, float[] actual, float tolerance)
    {
        Assert.AreEqual(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.IsTrue(Math.Abs(expected[i] - actual[i]) <= tolerance, $"element {i}: expected {expected[i]}, found {actual[i]}");
    }
}
