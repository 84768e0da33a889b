using Cnn.Zoo.Analysis;
using Cnn.Zoo.Layers;
using Cnn.Zoo.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Tests.Zoo;

/// <summary>The summary measures shapes, parameters and multiply-accumulates by running the module; checked on the
/// cost examples of the course notes and on LeNet-5.</summary>
[TestClass]
public sealed class SummaryTests
{
    // The course notes' 1x1-convolution example (shared/SEED.md; documented on Conv1x1 and ConvArithmetic): the
    // expected figures are the notes' own, checked both on paper (ConvArithmetic) and measured (ModelSummary).
    [TestMethod]
    public void FiveByFiveConvolutionOn28x28x192CostsOneHundredTwentyMillionMultiplies()
    {
        Assert.AreEqual(120_422_400L, ConvArithmetic.MultiplyAccumulates((28, 28), outChannels: 32, inChannels: 192, kernel: 5));
        using var direct = nn.Conv2d(192, 32, 5, padding: 2);
        var s = ModelSummary.Of(direct, [192, 28, 28]);
        Assert.AreEqual(120_422_400L, s.TotalMacs);
        CollectionAssert.AreEqual(new long[] { 1, 32, 28, 28 }, s.Rows.Single().OutputShape);
    }

    [TestMethod]
    public void OneByOneBottleneckCutsTheCostToTwelveMillion()
    {
        Assert.AreEqual(2_408_448L, ConvArithmetic.MultiplyAccumulates((28, 28), outChannels: 16, inChannels: 192, kernel: 1));
        Assert.AreEqual(10_035_200L, ConvArithmetic.MultiplyAccumulates((28, 28), outChannels: 32, inChannels: 16, kernel: 5));
        using var bottleneck = nn.Sequential(Conv1x1.Create(192, 16), nn.Conv2d(16, 32, 5, padding: 2));
        var s = ModelSummary.Of(bottleneck, [192, 28, 28]);
        Assert.AreEqual(2_408_448L, s.Rows[0].Macs);
        Assert.AreEqual(10_035_200L, s.Rows[1].Macs);
        Assert.AreEqual(12_443_648L, s.TotalMacs);
        // The 1x1 convolution shrinks 28x28x192 to 28x28x16 (16 filters of 1x1x192).
        CollectionAssert.AreEqual(new long[] { 1, 16, 28, 28 }, s.Rows[0].OutputShape);
    }

    [TestMethod]
    public void DepthwiseSeparableCosts656PerPositionAgainst4608()
    {
        const int m = 10, n = 12;
        Assert.AreEqual(m * n * 4608L, ConvArithmetic.MultiplyAccumulates((m, n), outChannels: 32, inChannels: 16, kernel: 3));
        Assert.AreEqual(m * n * 656L, ConvArithmetic.MultiplyAccumulates((m, n), 16, 16, 3, groups: 16)
                                      + ConvArithmetic.MultiplyAccumulates((m, n), 32, 16, 1));
        using var standard = nn.Conv2d(16, 32, 3, padding: 1, bias: false);
        Assert.AreEqual(m * n * 4608L, ModelSummary.Of(standard, [16, m, n]).TotalMacs);
        using var separable = new DepthwiseSeparable(16, 32);
        var s = ModelSummary.Of(separable, [16, m, n]);
        Assert.AreEqual(m * n * 656L, s.TotalMacs);
        Assert.AreEqual(m * n * 16L * 3 * 3, s.Rows.First(r => r.Name == "dw.0").Macs);
        Assert.AreEqual(m * n * 16L * 32, s.Rows.First(r => r.Name == "pw.0").Macs);
    }

    [TestMethod]
    public void ThreeChannelFilterCosts27PerOutputAndKFiltersGiveKMaps()
    {
        foreach (int k in new[] { 1, 2, 5 })
        {
            using var conv = nn.Conv2d(3, k, 3);
            var s = ModelSummary.Of(conv, [3, 6, 6]);
            CollectionAssert.AreEqual(new long[] { 1, k, 4, 4 }, s.Rows.Single().OutputShape);
            Assert.AreEqual(4 * 4 * k * 27L, s.TotalMacs);
            Assert.AreEqual(k * 27L + k, s.TotalParameters, "one 3x3x3 filter and one bias per output map");
        }
    }

    [TestMethod]
    public void LeNet5StagesAndParameterCountAreThePapers()
    {
        using var model = new LeNet5();
        var s = ModelSummary.Of(model, [1, 32, 32]);
        Assert.AreEqual(61_706L, s.TotalParameters);
        Assert.AreEqual(5, s.WeightLayerCount);
        var shapes = s.Rows.Where(r => r.Name is "features.0" or "features.2" or "features.3" or "features.5"
                                                or "classifier.0" or "classifier.2" or "classifier.4")
            .Select(r => string.Join("x", r.OutputShape!.Skip(1))).ToList();
        CollectionAssert.AreEqual(new[] { "6x28x28", "6x14x14", "16x10x10", "16x5x5", "120", "84", "10" }, shapes);
        using var features = model.ForwardFeatures(torch.zeros(1, 1, 32, 32));
        Assert.AreEqual(400, features.flatten(1).shape[1], "16 x 5 x 5 = 400 values enter the classifier");
    }

    [TestMethod]
    public void LeNet5RejectsTheWrongShapeNamingTheExpectedOne()
    {
        using var model = new LeNet5();
        var e = Assert.ThrowsExactly<ArgumentException>(() => model.call(torch.zeros(2, 1, 28, 28)));
        StringAssert.Contains(e.Message, "N x 1 x 32 x 32");
        StringAssert.Contains(e.Message, "[2, 1, 28, 28]");
        var channels = Assert.ThrowsExactly<ArgumentException>(() => model.call(torch.zeros(2, 3, 32, 32)));
        StringAssert.Contains(channels.Message, "1 input channel");
        Assert.ThrowsExactly<ArgumentException>(() => model.call(torch.zeros(1, 32, 32)));
    }

    [TestMethod]
    public void FrozenParametersAreCountedApartAndTheTableShowsThem()
    {
        using var model = new LeNet5();
        foreach (var (name, p) in model.named_parameters())
            if (name.StartsWith("features", StringComparison.Ordinal)) p.requires_grad = false;
        var s = ModelSummary.Of(model, [1, 32, 32]);
        Assert.AreEqual(156L + 2416, s.FrozenParameters);
        Assert.AreEqual(61_706L - 2572, s.TrainableParameters);
        string table = s.ToTable();
        StringAssert.Contains(table, "features.0");
        StringAssert.Contains(table, "(frozen)");
        StringAssert.Contains(table, "61,706");
    }

    [TestMethod]
    public void SummaryRestoresTrainingModeAndRemovesItsHooks()
    {
        using var model = new LeNet5();
        model.train();
        var first = ModelSummary.Of(model, [1, 32, 32]);
        Assert.IsTrue(model.training);
        var second = ModelSummary.Of(model, [1, 32, 32]);
        Assert.AreEqual(first.Rows.Count, second.Rows.Count, "hooks of the first summary must not record again");
    }
}
