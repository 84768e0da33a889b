using System.Text.Json;
using Cnn.Tests.Support;
using Cnn.Zoo;
using Cnn.Zoo.Analysis;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Tests.Zoo;

/// <summary>
/// Our models against real torchvision 0.14 (fixtures made by tools/reference/make_zoo_fixtures.py): the same
/// state-dict keys in the same order with the same shapes, the same parameter counts, and the same outputs for the
/// same deterministic weights and input.
/// </summary>
[TestClass]
public sealed class TorchVisionParityTests
{
    sealed record Fixture(string Name, long NumParams, long? NumParamsWithoutAux, List<(string Key, long[] Shape)> StateDict,
                          long[] InputShape, float[] Output, long[] OutputShape, double OutputMaxAbs);

    static Fixture Load(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("torchvision", name + ".json")));
        var root = doc.RootElement;
        long[] Longs(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt64()).ToArray();
        return new Fixture(
            name, root.GetProperty("num_params").GetInt64(),
            root.TryGetProperty("num_params_without_aux", out var w) ? w.GetInt64() : null,
            root.GetProperty("state_dict").EnumerateArray().Select(e => (e[0].GetString()!, Longs(e[1]))).ToList(),
            Longs(root.GetProperty("input_shape")),
            root.GetProperty("output").EnumerateArray().Select(x => (float)x.GetDouble()).ToArray(),
            Longs(root.GetProperty("output_shape")),
            root.GetProperty("output_max_abs").GetDouble());
    }

    /// <summary>GoogLeNet's fixture was made with the auxiliary classifiers, as torchvision's checkpoint holds them.</summary>

    [TestMethod]
    [DynamicData(nameof(ZooModels.InTorchVision), typeof(ZooModels))]
    public void StateDictKeysOrderAndShapesAreTorchVisions(string name)
    {
        var fixture = Load(name);
        using var model = ZooModels.OnMeta(name, 1000, ZooModels.WithEveryPart(name));
        var ours = model.state_dict().Select(kv => (kv.Key, kv.Value.shape)).ToList();
        CollectionAssert.AreEqual(fixture.StateDict.Select(k => k.Key).ToList(), ours.Select(k => k.Key).ToList());
        for (int i = 0; i < ours.Count; i++)
            CollectionAssert.AreEqual(fixture.StateDict[i].Shape, ours[i].shape, ours[i].Key);
        Assert.AreEqual(fixture.NumParams, model.parameters().Sum(p => p.numel()));
    }

    [TestMethod]
    [TestCategory("Slow")]   // one model per family at torchvision's fixture size
    [DynamicData(nameof(ZooModels.PerFamilyInTorchVision), typeof(ZooModels))]
    public void SameWeightsAndInputGiveTorchVisionsOutput(string name)
    {
        var fixture = Load(name);
        using var model = ModelRegistry.Create(name, 1000, ZooModels.WithEveryPart(name));
        DeterministicWeights.Apply(model);
        model.eval();
        using var _ = no_grad();
        using var x = DeterministicWeights.Input(fixture.InputShape);
        using var y = model.call(x);
        CollectionAssert.AreEqual(fixture.OutputShape, y.shape);
        float[] actual = y.data<float>().ToArray();
        // Deep ResNets with these weights reach 1e15 in magnitude, so the tolerance is relative to the output's scale.
        // float32 rounding alone moves outputs by up to 2.4e-5 of it (mobilenet_v2, fixture's output_f64_max_abs_diff).
        double tolerance = 1e-4 * fixture.OutputMaxAbs;
        double worst = actual.Zip(fixture.Output, (a, e) => Math.Abs(a - (double)e)).Max();
        Assert.IsTrue(worst <= tolerance, $"max |ours - torchvision| = {worst:G3}, allowed {tolerance:G3} (output scale {fixture.OutputMaxAbs:G3})");
    }

    [TestMethod]
    public void ParameterCountsAreTheOnesTorchVisionPublishes()
    {
        // torchvision's model documentation ("num_params" of each weights entry).
        var expected = new Dictionary<string, long>
        {
            ["alexnet"] = 61_100_840, ["vgg16"] = 138_357_544, ["vgg19"] = 143_667_240, ["resnet18"] = 11_689_512,
            ["resnet50"] = 25_557_032, ["googlenet"] = 6_624_904, ["mobilenet_v2"] = 3_504_872,
        };
        foreach (var (name, count) in expected)
        {
            using var model = ZooModels.OnMeta(name, 1000);
            Assert.AreEqual(count, model.parameters().Sum(p => p.numel()), name);
        }
        Assert.AreEqual(6_624_904L, Load("googlenet").NumParamsWithoutAux);
    }

    /// <summary>
    /// The two models torchvision lacks, counted from their papers' layer tables instead: LeNet-5 (LeCun et al. 1998,
    /// C1, C3, C5 as a 400-to-120 layer, F6, the 10-way output) and MobileNetV1 (Howard et al. 2017, Table 1; bias-free
    /// convolutions each followed by a batch norm's scale and shift).
    /// </summary>
    [TestMethod]
    public void ParameterCountsOfLeNet5AndMobileNetV1FollowTheirPapersTables()
    {
        static long Conv(long inChannels, long outChannels, long kernel, bool bias) => inChannels * outChannels * kernel * kernel + (bias ? outChannels : 0);
        static long Linear(long inputs, long outputs) => inputs * outputs + outputs;
        long lenet = Conv(1, 6, 5, true) + Conv(6, 16, 5, true) + Linear(16 * 5 * 5, 120) + Linear(120, 84) + Linear(84, 10);

        (long In, long Out)[] separable =
        [
            (32, 64), (64, 128), (128, 128), (128, 256), (256, 256), (256, 512),
            (512, 512), (512, 512), (512, 512), (512, 512), (512, 512), (512, 1024), (1024, 1024),
        ];
        static long BatchNorm(long channels) => 2 * channels;
        long mobilenet = Conv(3, 32, 3, false) + BatchNorm(32) + Linear(1024, 1000)
                         + separable.Sum(s => s.In * 3 * 3 + BatchNorm(s.In) + Conv(s.In, s.Out, 1, false) + BatchNorm(s.Out));

        using (var model = ZooModels.OnMeta("lenet5", 10)) Assert.AreEqual(lenet, model.parameters().Sum(p => p.numel()), "lenet5");
        using (var model = ZooModels.OnMeta("mobilenet_v1", 1000)) Assert.AreEqual(mobilenet, model.parameters().Sum(p => p.numel()), "mobilenet_v1");
    }

    /// <summary>
    /// macs.json holds torchvision's own multiply-accumulates at 1x3x224x224, counted by the fixture script with forward
    /// hooks on its Conv2d and Linear layers (eval mode, so GoogLeNet's auxiliary heads do not count); the summary,
    /// which the README's MACs column and the bench's FLOP/s come from, must count exactly the same. One model per
    /// family runs here; ModelFactsTests holds every model's tabulated count to macs.json.
    /// </summary>
    [TestMethod]
    [TestCategory("Slow")]   // a summary pass at 224 x 224 per family
    [DynamicData(nameof(ZooModels.PerFamilyInTorchVision), typeof(ZooModels))]
    public void MultiplyAccumulatesAt224AreTorchVisionsExactly(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("torchvision", "macs.json")));
        var expected = doc.RootElement.GetProperty("models").GetProperty(name);
        CollectionAssert.AreEqual(new long[] { 1, 3, 224, 224 },
                                  expected.GetProperty("input_shape").EnumerateArray().Select(e => e.GetInt64()).ToArray());
        using var model = ModelRegistry.Create(name);
        var summary = ModelSummary.Of(model, [3, 224, 224]);
        Assert.AreEqual(expected.GetProperty("conv_macs").GetInt64(), summary.Rows.Where(r => r.Type == "Conv2d").Sum(r => r.Macs), "convolutions");
        Assert.AreEqual(expected.GetProperty("linear_macs").GetInt64(), summary.Rows.Where(r => r.Type == "Linear").Sum(r => r.Macs), "linear layers");
        Assert.AreEqual(expected.GetProperty("total_macs").GetInt64(), summary.TotalMacs);
    }
}
