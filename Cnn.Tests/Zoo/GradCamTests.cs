using System.Text.Json;
using Cnn.Tests.Support;
using Cnn.Transfer;
using Cnn.Zoo;
using Cnn.Zoo.Analysis;
using Cnn.Zoo.Inference;
using Cnn.Zoo.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Tests.Zoo;

/// <summary>
/// Grad-CAM against PyTorch's autograd (fixtures made by tools/reference/make_gradcam_fixtures.py), on every registered
/// model, and the model left as it was found.
/// </summary>
[TestClass]
public sealed class GradCamTests
{
    sealed record Fixture(string Case, string Model, string[] Options, long[] InputShape, string? Layer, int? Class,
                          int[] Classes, long[] MapShape, float[] Maps, double[] MapsF64, double NoiseF32, bool Float32Comparable);

    public static IEnumerable<object[]> Cases =>
        Directory.EnumerateFiles(TestPaths.Fixture("gradcam"), "*.json").Order(StringComparer.Ordinal)
            .Select(f => new object[] { Path.GetFileNameWithoutExtension(f) });

    static Fixture Load(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("gradcam", name + ".json")));
        var root = doc.RootElement;
        long[] Longs(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt64()).ToArray();
        return new Fixture(
            name, root.GetProperty("model").GetString()!,
            root.GetProperty("options").EnumerateArray().Select(o => o.GetString()!).ToArray(),
            Longs(root.GetProperty("input_shape")),
            root.GetProperty("layer").ValueKind == JsonValueKind.Null ? null : root.GetProperty("layer").GetString(),
            root.GetProperty("class").ValueKind == JsonValueKind.Null ? null : root.GetProperty("class").GetInt32(),
            root.GetProperty("classes").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
            Longs(root.GetProperty("map_shape")),
            root.GetProperty("maps").EnumerateArray().Select(x => (float)x.GetDouble()).ToArray(),
            root.GetProperty("maps_f64").EnumerateArray().Select(x => x.GetDouble()).ToArray(),
            root.GetProperty("map_f64_max_rel_diff").GetDouble(),
            root.GetProperty("float32_comparable").GetBoolean());
    }

    /// <summary>The largest |ours - reference| over all maps, relative to the reference's largest value.</summary>
    static double RelativeDifference(IReadOnlyList<GradCamMap> maps, IReadOnlyList<double> reference)
    {
        double scale = reference.Max(), worst = 0;
        int i = 0;
        foreach (var map in maps)
        {
            foreach (float v in map.Values) worst = Math.Max(worst, Math.Abs(v - reference[i++]));
        }
        Assert.AreEqual(reference.Count, i, "map sizes");
        return worst / scale;
    }

    [TestMethod]
    [TestCategory("Slow")]   // AlexNet, VGG, GoogLeNet and MobileNetV2 forward and backward, in float32 and float64
    [DynamicData(nameof(Cases))]
    public void MapsMatchPyTorchsAutograd(string name)
    {
        var fixture = Load(name);
        using var model = ModelRegistry.Create(fixture.Model, fixture.Model == "lenet5" ? 10 : 1000, ModelOptions.Parse(fixture.Options));
        DeterministicWeights.Apply(model);
        using var x = DeterministicWeights.Input(fixture.InputShape);

        var maps = GradCam.Compute(model, x, fixture.Class, fixture.Layer);
        CollectionAssert.AreEqual(fixture.Classes, maps.Select(m => m.Class).ToArray(), "explained classes");
        CollectionAssert.AreEqual(fixture.MapShape, new long[] { maps.Count, maps[0].Height, maps[0].Width });
        Assert.IsTrue(maps.All(m => m.Layer == fixture.Layer));
        double float32 = RelativeDifference(maps, fixture.Maps.Select(v => (double)v).ToArray());
        // Where float32 rounding alone moves PyTorch's map by more than a tenth of the tolerance (MobileNetV2's ReLU6
        // clamps flip), a float32 comparison would measure rounding, not Grad-CAM; the float64 one below still runs.
        if (fixture.Float32Comparable)
            Assert.IsTrue(float32 <= 1e-4, $"{name} float32: max |ours - PyTorch| = {float32:G3} of the map's maximum (allowed 1e-4)");
        else
            Console.WriteLine($"{name} float32: {float32:G3} of the maximum (PyTorch's own float32 noise: {fixture.NoiseF32:G3})");

        model.to(ScalarType.Float64);
        using var x64 = x.to(ScalarType.Float64);
        var maps64 = GradCam.Compute(model, x64, fixture.Class, fixture.Layer);
        CollectionAssert.AreEqual(fixture.Classes, maps64.Select(m => m.Class).ToArray(), "explained classes (float64)");
        double float64 = RelativeDifference(maps64, fixture.MapsF64);
        Assert.IsTrue(float64 <= 1e-4, $"{name} float64: max |ours - PyTorch| = {float64:G3} of the map's maximum (allowed 1e-4)");
    }

    [TestMethod]
    [TestCategory("Slow")]   // a forward and backward pass of one model per family, VGG's 133 M weights included
    [DynamicData(nameof(ZooModels.PerFamily), typeof(ZooModels))]
    public void EveryModelExplainsItsBodyAndIsLeftAsItWas(string name)
    {
        using var model = ModelRegistry.Create(name, 10);
        DeterministicWeights.Apply(model);
        // A fine-tuning state: the body frozen, training mode with the frozen batch norms in eval.
        Freezing.FreezeAllButHead(model);
        Freezing.SetTrainingMode(model, true);
        var flags = model.modules().Select(m => m.training).ToList();
        var requiresGrad = model.parameters().Select(p => p.requires_grad).ToList();
        using var x = DeterministicWeights.Input(ZooModels.SmallInput(model));
        long[] bodyShape;
        using (var probe = ModelRegistry.Create(name, 10))
        using (no_grad())
        {
            probe.eval();
            using var features = probe.ForwardFeatures(x);
            bodyShape = features.shape;
        }

        IReadOnlyList<GradCamMap> maps;
        using (no_grad()) maps = GradCam.Compute(model, x);   // a caller's no_grad does not stop it

        Assert.AreEqual(2, maps.Count);
        foreach (var map in maps)
        {
            Assert.AreEqual((int)bodyShape[2], map.Height);
            Assert.AreEqual((int)bodyShape[3], map.Width);
            Assert.IsTrue(map.Values.Cast<float>().All(v => v >= 0 && float.IsFinite(v)), "a ReLU'd, finite map");
            Assert.AreEqual(map.Predicted, map.Class, "top-1 is explained by default");
            Assert.AreEqual(1.0, map.Probabilities.Sum(), 1e-4);
        }
        CollectionAssert.AreEqual(flags, model.modules().Select(m => m.training).ToList(), "training flags restored");
        CollectionAssert.AreEqual(requiresGrad, model.parameters().Select(p => p.requires_grad).ToList(), "requires_grad untouched");
        Assert.IsTrue(model.parameters().All(p => p.grad is null), "no parameter gradient accumulated");
    }

    [TestMethod]
    public void FrozenAndUnfrozenModelsGiveTheSameMapAndGradientsStayEmpty()
    {
        using var model = ModelRegistry.Create("resnet18", 10);
        DeterministicWeights.Apply(model);
        using var x = DeterministicWeights.Input(2, 3, 64, 64);
        var trainable = GradCam.Compute(model, x, targetClass: 3, layer: "layer3");
        foreach (var p in model.parameters()) p.requires_grad = false;
        var frozen = GradCam.Compute(model, x, targetClass: 3, layer: "layer3");
        for (int i = 0; i < 2; i++)
            CollectionAssert.AreEqual(trainable[i].Values.Cast<float>().ToArray(), frozen[i].Values.Cast<float>().ToArray());
        Assert.IsTrue(model.parameters().All(p => p.grad is null));
    }

    [TestMethod]
    public void FoldedInferenceModelGivesThePlainModelsMap()
    {
        using var plain = ModelRegistry.Create("resnet18", 10);
        using var fast = ModelRegistry.Create("resnet18", 10);
        DeterministicWeights.Apply(plain);
        DeterministicWeights.Apply(fast);
        // Folded batch norms and frozen weights are what this test is about; the layout is InferenceModelTests' subject.
        using var optimized = InferenceModel.Optimize(fast, new InferenceOptions(Layout: MemoryLayout.Nchw));
        using var x = DeterministicWeights.Input(2, 3, 64, 64);
        foreach (string? layer in new[] { null, "layer3" })
        {
            var expected = GradCam.Compute(plain, x, layer: layer);
            var actual = GradCam.Compute(optimized.Model, x, layer: layer);
            for (int i = 0; i < expected.Count; i++)
            {
                Assert.AreEqual(expected[i].Class, actual[i].Class);
                float scale = expected[i].Peak().Value;
                float worst = expected[i].Values.Cast<float>().Zip(actual[i].Values.Cast<float>(), (a, b) => Math.Abs(a - b)).Max();
                Assert.IsTrue(worst <= 1e-4 * scale, $"layer {layer ?? "body"}: folded differs by {worst:G3}, map maximum {scale:G3}");
            }
        }
    }

    [TestMethod]
    public void ABFloat16ModelIsRefusedWithWhatToDoInstead()
    {
        using var lenet = ModelRegistry.Create("lenet5", 10);
        using var bf16 = InferenceModel.Optimize(lenet, new InferenceOptions(Precision: InferencePrecision.BFloat16));
        using var x = DeterministicWeights.Input(1, 1, 32, 32);
        var refused = Assert.ThrowsExactly<InvalidChoiceException>(() => GradCam.Compute(bf16.Model, x));
        StringAssert.Contains(refused.Message, "Grad-CAM computes in float32; lenet5 has BFloat16 weights");
    }

    [TestMethod]
    public void WrongLayersAndClassesAreRefusedWithWhatIsAllowed()
    {
        using var model = ModelRegistry.Create("resnet18", 10);
        using var x = DeterministicWeights.Input(1, 3, 64, 64);
        var unknown = Assert.ThrowsExactly<InvalidChoiceException>(() => GradCam.Compute(model, x, layer: "layer5"));
        StringAssert.Contains(unknown.Message, "no layer 'layer5'");
        StringAssert.Contains(unknown.Message, "layer4");
        var twice = Assert.ThrowsExactly<InvalidChoiceException>(() => GradCam.Compute(model, x, layer: "layer1.0.relu"));
        StringAssert.Contains(twice.Message, "runs 2 times");
        var flat = Assert.ThrowsExactly<InvalidChoiceException>(() => GradCam.Compute(model, x, layer: "fc"));
        StringAssert.Contains(flat.Message, "N x C x H x W");
        StringAssert.Contains(flat.Message, "[1, 10]");
        var badClass = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => GradCam.Compute(model, x, targetClass: 10));
        StringAssert.Contains(badClass.Message, "from 0 to 9");
        using var grey = DeterministicWeights.Input(1, 1, 64, 64);
        Assert.ThrowsExactly<ArgumentException>(() => GradCam.Compute(model, grey));
        using var googlenet = ModelRegistry.Create("googlenet", 10, ModelOptions.Parse(["aux_logits=true"]));
        var aux = Assert.ThrowsExactly<InvalidChoiceException>(() => GradCam.Compute(googlenet, x, layer: "aux1.conv"));
        StringAssert.Contains(aux.Message, "did not run");
    }
}
