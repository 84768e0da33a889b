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
    static ModelOptions OptionsFor(string name) => name == "googlenet" ? ModelOptions.Parse(["aux_logits=true"]) : ModelOptions.None;

    [TestMethod]
    [DynamicData(nameof(ZooModels.InTorchVision), typeof(ZooModels))]
    public void StateDictKeysOrderAndShapesAreTorchVisions(string name)
    {
        var fixture = Load(name);
        using var model = ModelRegistry.Create(name, 1000, OptionsFor(name));
        var ours = model.state_dict().Select(kv => (kv.Key, kv.Value.shape)).ToList();
        CollectionAssert.AreEqual(fixture.StateDict.Select(k => k.Key).ToList(), ours.Select(k => k.Key).ToList());
        for (int i = 0; i < ours.Count; i++)
            CollectionAssert.AreEqual(fixture.StateDict[i].Shape, ours[i].shape, ours[i].Key);
        Assert.AreEqual(fixture.NumParams, model.parameters().Sum(p => p.numel()));
    }

    [TestMethod]
    [TestCategory("Slow")]
    [DynamicData(nameof(ZooModels.InTorchVision), typeof(ZooModels))]
    public void SameWeightsAndInputGiveTorchVisionsOutput(string name)
    {
        var fixture = Load(name);
        using var model = ModelRegistry.Create(name, 1000, OptionsFor(name));
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
        var expected = new Dictionary<string, long>
        {
            ["alexnet"] = 61_100_840, ["vgg16"] = 138_357_544, ["vgg19"] = 143_667_240, ["resnet18"] = 11_689_512,
            ["resnet50"] = 25_557_032, ["googlenet"] = 6_624_904, ["mobilenet_v2"] = 3_504_872, ["mobilenet_v1"] = 4_231_976,
            ["lenet5"] = 61_706,
        };
        foreach (var (name, count) in expected)
        {
            using var model = ModelRegistry.Create(name, name == "lenet5" ? 10 : 1000);
            Assert.AreEqual(count, model.parameters().Sum(p => p.numel()), name);
        }
        Assert.AreEqual(6_624_904L, Load("googlenet").NumParamsWithoutAux);
    }

    /// <summary>
    /// macs.json holds torchvision's own multiply-accumulates at 1x3x224x224, counted by the fixture script with forward
    /// hooks on its Conv2d and Linear layers (eval mode, so GoogLeNet's auxiliary heads do not count); the summary,
    /// which the README's MACs column and the bench's FLOP/s come from, must count exactly the same.
    /// </summary>
    [TestMethod]
    [TestCategory("Slow")]
    [DynamicData(nameof(ZooModels.InTorchVision), typeof(ZooModels))]
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
