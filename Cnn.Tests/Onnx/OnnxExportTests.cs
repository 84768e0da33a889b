using System.Text.Json;
using Cnn.Onnx;
using Cnn.Tests.Support;
using Cnn.Zoo;
using Cnn.Zoo.Inference;
using Cnn.Zoo.Models;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Tests.Onnx;

/// <summary>
/// Every registered model exported to ONNX and run in ONNX Runtime with full graph optimisation gives the zoo's
/// eval-mode outputs, and torchvision's outputs (the fixtures of make_zoo_fixtures.py) where torchvision has the model.
/// Weights come from the fixtures' formula, so the batch norms have running statistics far from 0 and 1 and folding
/// them is not a no-op.
/// </summary>
[TestClass]
public sealed class OnnxExportTests
{
    /// <summary>Every kind of layer the zoo has is in one of these models; VGG's export holds 500 MB of weights.</summary>
    [TestMethod]
    [TestCategory("Slow")]   // exports and runs one model per family, VGG's 500 MB included
    [DynamicData(nameof(ZooModels.PerFamily), typeof(ZooModels))]
    public void OnnxRuntimeGivesTheZooModelsOutputs(string name) => ExportAndCompare(name);

    static OnnxExportOptions SizedFor(long[] input) => new(Height: (int)input[2], Width: (int)input[3]);

    /// <summary>GoogLeNet is built with its auxiliary classifiers (torchvision's checkpoints hold them); the export leaves them out.</summary>
    static void ExportAndCompare(string name)
    {
        var entry = ModelRegistry.Get(name);
        using var model = ModelRegistry.Create(name, entry.DefaultClasses, ZooModels.WithEveryPart(name));
        DeterministicWeights.Apply(model);
        model.eval();
        long[] shape = ZooModels.SmallInput(model);
        var proto = OnnxExport.ToModelProto(model, SizedFor(shape));
        var violations = OnnxChecker.Violations(proto);
        Assert.IsEmpty(violations, $"{name}: checker rules broken:\n{string.Join("\n", violations.Take(10))}");

        using var x = DeterministicWeights.Input(shape);
        float[] expected = ZooOutput(model, x);
        using var session = OnnxSessions.FullyOptimised(proto.ToByteArray());
        float[] actual = OnnxSessions.Run(session, x);
        AssertClose(expected, actual, 1e-4, $"{name}: ONNX Runtime vs zoo eval mode");

        string fixture = TestPaths.Fixture("torchvision", name + ".json");
        if (entry.InTorchVision)
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(fixture));
            var root = doc.RootElement;
            CollectionAssert.AreEqual(shape, root.GetProperty("input_shape").EnumerateArray().Select(e => e.GetInt64()).ToArray(),
                                      $"{name}: the test input is the fixture's");
            float[] torchvision = [.. root.GetProperty("output").EnumerateArray().Select(e => (float)e.GetDouble())];
            // As in TorchVisionParityTests: MobileNetV2's depthwise convolutions round differently in libtorch 2.10 and 1.13.
            AssertClose(torchvision, actual, name == "mobilenet_v2" ? 1e-3 : 1e-4, $"{name}: ONNX Runtime vs torchvision 0.14");
        }
    }

    /// <summary>The body alone (<see cref="OnnxExportOptions.FeaturesOnly"/>), which the feature cache runs, ends where
    /// <see cref="ZooModel.ForwardFeatures"/> ends and computes what it computes.</summary>
    [TestMethod]
    [TestCategory("Slow")]   // one model per family
    [DynamicData(nameof(ZooModels.PerFamily), typeof(ZooModels))]
    public void TheBodysExportGivesTheModelsFeatures(string name) => CompareFeatures(name);

    [TestMethod]
    public void ResNetsBodyExportGivesItsFeatures() => CompareFeatures("resnet18");

    static void CompareFeatures(string name)
    {
        using var model = ModelRegistry.Create(name, ModelRegistry.Get(name).DefaultClasses, ZooModels.WithEveryPart(name));
        DeterministicWeights.Apply(model);
        model.eval();
        long[] shape = ZooModels.SmallInput(model);
        var options = SizedFor(shape) with { FeaturesOnly = true };
        var proto = OnnxExport.ToModelProto(model, options);
        var violations = OnnxChecker.Violations(proto);
        Assert.IsEmpty(violations, $"{name}: checker rules broken:\n{string.Join("\n", violations.Take(10))}");
        Assert.AreEqual(OnnxExport.FeaturesName, proto.Graph.Output.Single().Name, name);

        using var x = DeterministicWeights.Input(shape);
        using var onnx = OnnxRuntimeModel.Create(model, export: options);
        using var actual = onnx.call(x);
        // The reference in double precision, as ZooOutput computes it (see there why).
        using var _ = no_grad();
        model.to(ScalarType.Float64);
        using var expected = model.ForwardFeatures(x.to_type(ScalarType.Float64)).to_type(ScalarType.Float32).contiguous();
        model.to(ScalarType.Float32);
        CollectionAssert.AreEqual(expected.shape, actual.shape, $"{name}: batch x {model.NumFeatures} x h x w");
        // 2e-4 rather than the logits' 1e-4: the feature maps are not yet averaged by pooling, and MobileNetV2's end in a
        // ReLU6, whose cap of 6 is their scale (ONNX Runtime's depthwise kernels: 1.4e-4 of it).
        AssertClose(expected.data<float>().ToArray(), actual.data<float>().ToArray(), 2e-4, $"{name}: ONNX Runtime body vs ForwardFeatures");
    }

    [TestMethod]
    public void TheBatchDimensionIsDynamic()
    {
        using var model = ModelRegistry.Create("mobilenet_v2", 10);
        DeterministicWeights.Apply(model);
        model.eval();
        using var session = OnnxSessions.FullyOptimised(OnnxExport.ToBytes(model, new OnnxExportOptions(64, 64)));
        foreach (int batch in new[] { 1, 3 })
        {
            using var x = DeterministicWeights.Input(batch, 3, 64, 64);
            float[] actual = OnnxSessions.Run(session, x);
            Assert.HasCount(batch * 10, actual);
            AssertClose(ZooOutput(model, x), actual, 1e-4, $"batch of {batch}");
        }
        var input = OnnxExport.ToModelProto(model, new OnnxExportOptions(64, 64)).Graph.Input.Single();
        Assert.AreEqual("input", input.Name);
        Assert.AreEqual("batch", input.Type.TensorType.Shape.Dim[0].DimParam);
    }

    [TestMethod]
    public void GoogLeNetsTransformInputIsExported()
    {
        using var model = ModelRegistry.Create("googlenet", 10, ModelOptions.Parse(["transform_input=true"]));
        DeterministicWeights.Apply(model);
        model.eval();
        using var x = DeterministicWeights.Input(2, 3, 64, 64);
        using var session = OnnxSessions.FullyOptimised(OnnxExport.ToBytes(model, new OnnxExportOptions(64, 64)));
        float[] expected = ZooOutput(model, x);
        AssertClose(expected, OnnxSessions.Run(session, x), 1e-4, "googlenet with transform_input");

        using var plain = ModelRegistry.Create("googlenet", 10);
        DeterministicWeights.Apply(plain);
        plain.eval();
        double difference = expected.Zip(ZooOutput(plain, x), (a, b) => Math.Abs(a - b)).Max();
        Assert.IsGreaterThan(1e-2, difference, "the transform changes the outputs, so the comparison above tests it");
    }

    /// <summary>
    /// AlexNet pools its features adaptively to 6 x 6. At 224 they are 6 x 6 already; at 415 they are 12 x 12, an
    /// ordinary 2 x 2 pooling; at 64 they are 1 x 1, repeated 36 times — each case gives PyTorch's numbers. One model
    /// (61 M weights) serves the three sizes.
    /// </summary>
    [TestMethod]
    [TestCategory("Slow")]   // AlexNet at 415 x 415
    public void AdaptivePoolingIsExportedForEveryFeatureMapSize()
    {
        using var model = ModelRegistry.Create("alexnet", 10);
        DeterministicWeights.Apply(model);
        model.eval();
        foreach (var (size, expectedNode) in new[] { (224, "no pooling node"), (415, "AveragePool"), (64, "MatMul") })
        {
            var proto = OnnxExport.ToModelProto(model, new OnnxExportOptions(size, size));
            var pooling = proto.Graph.Node.Where(n => n.Name.StartsWith("avgpool", StringComparison.Ordinal)).Select(n => n.OpType).Distinct().ToList();
            if (expectedNode == "no pooling node") Assert.IsEmpty(pooling, $"at {size}");
            else CollectionAssert.AreEqual(new[] { expectedNode }, pooling, $"at {size}");
            using var x = DeterministicWeights.Input(1, 3, size, size);
            using var session = OnnxSessions.FullyOptimised(proto.ToByteArray());
            AssertClose(ZooOutput(model, x), OnnxSessions.Run(session, x), 1e-4, $"alexnet at {size}");
        }
    }

    [TestMethod]
    public void ExportingReadsTheModelWithoutChangingIt()
    {
        using var model = ModelRegistry.Create("resnet18", 10);
        DeterministicWeights.Apply(model);
        model.train();
        var before = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        OnnxExport.ToModelProto(model, new OnnxExportOptions(64, 64));
        Assert.IsTrue(model.training, "the model stays in training mode");
        Assert.IsFalse(model.IsInferenceOnly);
        Assert.AreEqual(20, model.modules().Count(m => m is TorchSharp.Modules.BatchNorm2d), "no batch norm was folded away");
        foreach (var (key, value) in model.state_dict())
            Assert.IsTrue(torch.equal(value, before[key]).all().item<bool>(), $"{key} changed");
        foreach (var value in before.Values) value.Dispose();
    }

    [TestMethod]
    public void AnOptimisedModelExportsToTheSameOutputs()
    {
        using var plain = ModelRegistry.Create("resnet18", 10);
        using var folded = ModelRegistry.Create("resnet18", 10);
        DeterministicWeights.Apply(plain);
        DeterministicWeights.Apply(folded);
        plain.eval();
        using var optimized = InferenceModel.Optimize(folded, new InferenceOptions(Layout: MemoryLayout.ChannelsLast));
        using var x = DeterministicWeights.Input(2, 3, 64, 64);
        using var session = OnnxSessions.FullyOptimised(OnnxExport.ToBytes(optimized.Model, new OnnxExportOptions(64, 64)));
        AssertClose(ZooOutput(plain, x), OnnxSessions.Run(session, x), 1e-4, "folded, channels-last resnet18");
    }

    /// <summary>On a CPU that computes bf16 natively, an optimised model is still float32 unless asked: its export is exact.</summary>
    [TestMethod]
    public void AModelOptimisedOnABFloat16CpuExportsFloat32Outputs()
    {
        var bf16Cpu = new CpuCapabilities(Avx512Bf16: true, AmxBf16: true, CacheTopology: true);
        using var plain = ModelRegistry.Create("resnet18", 10);
        using var folded = ModelRegistry.Create("resnet18", 10);
        DeterministicWeights.Apply(plain);
        DeterministicWeights.Apply(folded);
        plain.eval();
        using var optimized = InferenceModel.Optimize(folded, new InferenceOptions(Cpu: bf16Cpu));
        Assert.AreEqual(InferencePrecision.Float32, optimized.Precision.Precision);
        using var x = DeterministicWeights.Input(2, 3, 64, 64);
        using var session = OnnxSessions.FullyOptimised(OnnxExport.ToBytes(optimized.Model, new OnnxExportOptions(64, 64)));
        AssertClose(ZooOutput(plain, x), OnnxSessions.Run(session, x), 1e-4, "resnet18 optimised on a CPU with native bf16");
    }

    [TestMethod]
    public void MetadataNamesTheModelItsClassesAndItsPreprocessing()
    {
        using var model = ModelRegistry.Create("resnet18", 3);
        string[] classes = ["cat", "dog, large", "bird \"tweety\""];
        var options = new OnnxExportOptions(ClassNames: classes, Preprocessing: new Preprocessing(110, 96, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]));
        using var session = OnnxSessions.FullyOptimised(OnnxExport.ToBytes(model, options));
        var metadata = session.ModelMetadata.CustomMetadataMap;
        Assert.AreEqual("resnet18", metadata["model"]);
        CollectionAssert.AreEqual(classes, JsonSerializer.Deserialize<string[]>(metadata["classes"]));
        Assert.AreEqual("rgb", metadata["color"]);
        Assert.AreEqual(110, JsonSerializer.Deserialize<int>(metadata["resize"]));
        Assert.AreEqual("bilinear", metadata["interpolation"]);
        CollectionAssert.AreEqual(new[] { 96, 96 }, JsonSerializer.Deserialize<int[]>(metadata["crop"]));
        CollectionAssert.AreEqual(new[] { 0.485, 0.456, 0.406 }, JsonSerializer.Deserialize<double[]>(metadata["mean"]));
        CollectionAssert.AreEqual(new[] { 0.229, 0.224, 0.225 }, JsonSerializer.Deserialize<double[]>(metadata["std"]));
        CollectionAssert.AreEqual(new[] { -1, 3, 96, 96 }, session.InputMetadata["input"].Dimensions, "the graph takes the crop size");
        CollectionAssert.AreEqual(new[] { -1, 3 }, session.OutputMetadata["logits"].Dimensions);
    }

    [TestMethod]
    public void WithoutOptionsTheMetadataHoldsClassIndicesAndNoNormalisation()
    {
        using var model = ModelRegistry.Create("lenet5", 10);
        using var session = OnnxSessions.FullyOptimised(OnnxExport.ToBytes(model));
        var metadata = session.ModelMetadata.CustomMetadataMap;
        CollectionAssert.AreEqual(Enumerable.Range(0, 10).Select(i => i.ToString()).ToArray(), JsonSerializer.Deserialize<string[]>(metadata["classes"]));
        Assert.AreEqual("grey", metadata["color"]);
        CollectionAssert.AreEqual(new[] { 32, 32 }, JsonSerializer.Deserialize<int[]>(metadata["crop"]));
        Assert.AreEqual(32, JsonSerializer.Deserialize<int>(metadata["resize"]));
        CollectionAssert.AreEqual(new[] { 0f }, JsonSerializer.Deserialize<float[]>(metadata["mean"]));
        CollectionAssert.AreEqual(new[] { 1f }, JsonSerializer.Deserialize<float[]>(metadata["std"]));
    }

    [TestMethod]
    public void OptionsThatDoNotFitTheModelAreRefusedWithWhatWasExpected()
    {
        using var model = ModelRegistry.Create("lenet5", 10);
        var size = Assert.ThrowsExactly<InvalidChoiceException>(() => OnnxExport.ToModelProto(model, new OnnxExportOptions(28, 28)));
        StringAssert.Contains(size.Message, "N x 1 x 32 x 32");
        var names = Assert.ThrowsExactly<InvalidChoiceException>(() => OnnxExport.ToModelProto(model, new OnnxExportOptions(ClassNames: ["a", "b"])));
        StringAssert.Contains(names.Message, "10 classes; 2 class names");
        var norm = Assert.ThrowsExactly<InvalidChoiceException>(
            () => OnnxExport.ToModelProto(model, new OnnxExportOptions(Preprocessing: new Preprocessing(32, 32, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]))));
        StringAssert.Contains(norm.Message, "1 channel(s)");
        var crop = Assert.ThrowsExactly<InvalidChoiceException>(
            () => OnnxExport.ToModelProto(model, new OnnxExportOptions(32, 32, Preprocessing: new Preprocessing(36, 28, [0.5], [0.5]))));
        StringAssert.Contains(crop.Message, "crops 28 x 28");
    }

    [TestMethod]
    public void AModelFamilyTheExporterDoesNotKnowGetsAMessageThatSaysWhereToAddIt()
    {
        using var model = new TinyModel();
        var error = Assert.ThrowsExactly<NotSupportedException>(() => OnnxExport.ToModelProto(model));
        StringAssert.Contains(error.Message, "TinyModel");
        StringAssert.Contains(error.Message, "OnnxModelWriter");
    }

    [TestMethod]
    public void ExportWritesAFileOnnxRuntimeLoads()
    {
        using var folderTemp = new TempFolder("onnx-export");
        string folder = folderTemp.Path;
        try
        {
            using var model = ModelRegistry.Create("lenet5", 10);
            DeterministicWeights.Apply(model);
            model.eval();
            string path = Path.Combine(folder, "nested", "lenet5.onnx");
            OnnxExport.Export(model, path);
            Assert.IsEmpty(Directory.GetFiles(Path.GetDirectoryName(path)!, "*.tmp"), "no temporary file is left behind");
            var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
            Assert.AreEqual(OnnxExport.Opset, proto.OpsetImport.Single().Version);
            Assert.IsEmpty(OnnxChecker.Violations(proto));
            using var session = new InferenceSession(path);
            using var x = DeterministicWeights.Input(2, 1, 32, 32);
            AssertClose(ZooOutput(model, x), OnnxSessions.Run(session, x), 1e-4, "lenet5 from a file");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    public void TheCheckerFindsEachBrokenRule()
    {
        using var model = ModelRegistry.Create("lenet5", 10);
        var valid = OnnxExport.ToModelProto(model);
        Assert.IsEmpty(OnnxChecker.Violations(valid));

        var duplicate = valid.Clone();
        duplicate.Graph.Node[1].Name = duplicate.Graph.Node[0].Name;
        StringAssert.Contains(string.Join("\n", OnnxChecker.Violations(duplicate)), "is used twice");

        var undefined = valid.Clone();
        undefined.Graph.Initializer.RemoveAt(0);
        StringAssert.Contains(string.Join("\n", OnnxChecker.Violations(undefined)), "not defined before it");

        var untyped = valid.Clone();
        untyped.Graph.Initializer[0].DataType = 0;
        StringAssert.Contains(string.Join("\n", OnnxChecker.Violations(untyped)), "not float");

        var truncated = valid.Clone();
        truncated.Graph.Initializer[0].RawData = ByteString.CopyFrom(truncated.Graph.Initializer[0].RawData.Span[..8]);
        StringAssert.Contains(string.Join("\n", OnnxChecker.Violations(truncated)), "but 2 values");

        var reordered = valid.Clone();
        var first = reordered.Graph.Node[0];
        reordered.Graph.Node.RemoveAt(0);
        reordered.Graph.Node.Add(first);
        StringAssert.Contains(string.Join("\n", OnnxChecker.Violations(reordered)), "not defined before it");
    }

    /// <summary>
    /// The zoo model's output in double precision (the model is converted and converted back): a reference free of
    /// float32 rounding, and of a libtorch 2.10 fault on AVX-512 CPUs where float32 NCHW convolutions with 20 or 24
    /// input channels at batch 2 and more return wrong values (GoogLeNet's inception4b-e, MobileNetV2's 24-wide layers).
    /// </summary>
    internal static float[] ZooOutput(ZooModel model, Tensor x)
    {
        using var _ = no_grad();
        model.to(ScalarType.Float64);
        try
        {
            using var input = x.to_type(ScalarType.Float64);
            using var y = model.call(input);
            using var single = y.to_type(ScalarType.Float32);
            return single.data<float>().ToArray();
        }
        finally
        {
            model.to(ScalarType.Float32);
        }
    }

    /// <summary>Max |actual - expected| within <paramref name="relative"/> of the largest |expected| (deep ResNets reach 1e15 with these weights).</summary>
    internal static void AssertClose(float[] expected, float[] actual, double relative, string what)
    {
        Assert.HasCount(expected.Length, actual, what);
        double scale = expected.Max(v => Math.Abs((double)v));
        double worst = expected.Zip(actual, (e, a) => Math.Abs(e - (double)a)).Max();
        Assert.IsTrue(worst <= relative * scale, $"{what}: max difference {worst:G3}, allowed {relative * scale:G3} (output scale {scale:G3})");
    }

    sealed class TinyModel : ZooModel
    {
        private readonly TorchSharp.Modules.Linear fc = nn.Linear(4, 2);

        public TinyModel() : base("tiny", new InputSpec(1, 2, 2, 2, 2, FixedSize: true), 2, _ => new TinyModel()) => RegisterComponents();

        public override long NumFeatures => 1;
        public override string ClassifierName => "fc";
        public override string FirstConvName => "fc";
        public override Tensor ForwardFeatures(Tensor x) => x.alias();
        public override Tensor ForwardHead(Tensor features) => fc.call(features.flatten(1));
        protected override void ReplaceClassifier(int numClasses) => throw new NotSupportedException();
    }
}
