using Cnn.Onnx.Import;
using Cnn.Zoo.Layers;
using Cnn.Zoo.Models;
using Onnx;
using static TorchSharp.torch;

namespace Cnn.Tests.Onnx.Import;

/// <summary>The graph walk from ML.NET's ResNet18.onnx onto zoo ResNet [2, 2, 2, 3] keys, checked against ONNX Runtime.</summary>
[TestClass]
[TestCategory("Pretrained")]
[TestCategory("Slow")]   // imports ResNet graphs from ONNX
public sealed class OnnxResNetImporterTests
{
    static readonly ResNetConfig Stages2223 = new(ResidualBlockKind.Basic, [2, 2, 2, 3]);

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void Import_GivesExactlyTheZooKeys()
    {
        using var weights = OnnxResNetImporter.Import(OnnxReference.Model, "ResNet18.onnx");
        using var model = new ResNet(weights.Config, 10);

        CollectionAssert.AreEqual(new[] { 2, 2, 2, 3 }, weights.Config.Layers.ToArray());
        var expected = model.state_dict().Where(kv => !kv.Key.StartsWith("fc.", StringComparison.Ordinal)).ToList();
        CollectionAssert.AreEquivalent(expected.Select(kv => kv.Key).ToList(), weights.StateDict.Keys.ToList());
        // PyTorch's order (module by module), not TorchSharp's (all parameters, then all buffers).
        CollectionAssert.AreEqual(
            new[] { "conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked", "layer1.0.conv1.weight" },
            weights.StateDict.Keys.Take(7).ToArray());
        foreach (var (key, tensor) in expected)
            CollectionAssert.AreEqual(tensor.shape, weights.StateDict[key].shape, key);
        // 22 convolutions and 22 batch norms: 22 + 4 x 22 = 110 initializers, each used once.
        Assert.AreEqual(110, weights.Origins.Values.Count(o => !o.StartsWith('(')));
        Assert.AreEqual(110, OnnxReference.Model.Graph.Initializer.Count);
        Assert.AreEqual("Input247", weights.InputName);
        Assert.AreEqual("Pooling395_Output_0", weights.OutputName);
        StringAssert.StartsWith(weights.Origins["conv1.weight"], "Parameter91 ");
    }

    /// <summary>Raw imported weights against ONNX Runtime, both on ML.NET's preprocessing (BGR minus the mean image).</summary>
    [TestMethod]
    public void Import_RawWeights_MatchOnnxRuntime()
    {
        using var weights = OnnxResNetImporter.Import(OnnxReference.Model, "ResNet18.onnx", Stages2223);
        using var model = new ResNet(weights.Config, 1000);
        model.load_state_dict(weights.StateDict, strict: false);
        var meanImage = MlNetPreprocess.Read(OnnxReference.PreprocessPath);

        double worst = 0;
        foreach (var (name, rgb) in OnnxReference.Images)
        {
            using var onnxInput = meanImage.Apply(rgb);
            var (maxAbs, scale, cosine) = OnnxReference.Compare(OnnxReference.ZooFeatures(model, onnxInput), OnnxReference.Network(onnxInput));
            TestContext.WriteLine($"{name}: max |zoo - onnxruntime| = {maxAbs:E2}, feature max {scale:F3}, relative {maxAbs / scale:E2}, cosine {cosine:F9}");
            worst = Math.Max(worst, maxAbs / scale);
            using var mlnet = OnnxReference.PreprocessWithOnnxRuntime(rgb);
            Assert.IsLessThan(1e-4, mlnet.sub(onnxInput).abs().max().item<float>(), "MlNetPreprocess.Apply = ResNetPreprocess.onnx");
        }
        Assert.IsLessThan(1e-4, worst, $"relative max difference {worst:E2}");
    }

    [TestMethod]
    public void Import_ExpectedLayoutDiffers_SaysWhichStages()
    {
        var error = Assert.Throws<OnnxGraphMismatchException>(
            () => OnnxResNetImporter.Import(OnnxReference.Model, "ResNet18.onnx", ResNetConfig.ResNet18));
        StringAssert.Contains(error.Message, "expected stages [2, 2, 2, 2], the graph has [2, 2, 2, 3]");
    }

    /// <summary>Graphs that differ from the expected network in one place fail there, naming node and expectation.</summary>
    [TestMethod]
    [DataRow("Convolution285", "group", "group 1", DisplayName = "grouped convolution")]
    [DataRow("BatchNormalization251", "epsilon", "epsilon 1E-05", DisplayName = "BatchNorm epsilon")]
    [DataRow("Convolution263", "pads", "pads [1, 1, 1, 1]", DisplayName = "padding")]
    [DataRow("Pooling255", "strides", "stride 2", DisplayName = "max-pool stride")]
    [DataRow("Convolution349", "dilations", "dilations [1, 1]", DisplayName = "dilation")]
    public void Import_MutatedAttribute_NamesNodeAndExpectation(string node, string attribute, string expectation)
    {
        var model = OnnxReference.Model.Clone();
        var target = model.Graph.Node.Single(n => n.Name == node).Attribute.Single(a => a.Name == attribute);
        switch (attribute)
        {
            case "group": target.I = 2; break;
            case "epsilon": target.F = 1e-3f; break;
            case "pads": target.Ints[2] = 2; target.Ints[3] = 2; break;
            case "strides": target.Ints[0] = 1; target.Ints[1] = 1; break;
            case "dilations": target.Ints[0] = 2; target.Ints[1] = 2; break;
        }
        var error = Assert.Throws<OnnxGraphMismatchException>(() => OnnxResNetImporter.Import(model, "mutated.onnx"));
        TestContext.WriteLine(error.Message);
        StringAssert.Contains(error.Node, node);
        StringAssert.Contains(error.Message, expectation);
    }

    [TestMethod]
    public void Import_ClassifierAfterPooling_IsRefused()
    {
        var model = OnnxReference.Model.Clone();
        var flatten = new NodeProto { OpType = "Flatten", Name = "Flatten900" };
        flatten.Input.Add("Pooling395_Output_0");
        flatten.Output.Add("Flatten900_Output_0");
        model.Graph.Node.Add(flatten);
        var error = Assert.Throws<OnnxGraphMismatchException>(() => OnnxResNetImporter.Import(model, "with-head.onnx"));
        StringAssert.Contains(error.Message, "classifier heads are not imported");
        StringAssert.Contains(error.Message, "Flatten 'Flatten900'");
    }

    [TestMethod]
    public void Import_ShortcutRewired_NamesTheAdd()
    {
        // Plus281 adds the block input ReLU269_Output_0; point it at another tensor and the identity shortcut is gone.
        var model = OnnxReference.Model.Clone();
        var add = model.Graph.Node.Single(n => n.Name == "Plus281");
        add.Input[1] = "Pooling255_Output_0";
        var error = Assert.Throws<OnnxGraphMismatchException>(() => OnnxResNetImporter.Import(model, "rewired.onnx"));
        TestContext.WriteLine(error.Message);
        StringAssert.Contains(error.Message, "residual block");
    }

    [TestMethod]
    public void Import_UnusedInitializer_IsReported()
    {
        var model = OnnxReference.Model.Clone();
        model.Graph.Initializer.Add(new TensorProto { Name = "Stray1", DataType = (int)TensorProto.Types.DataType.Float, Dims = { 1 }, FloatData = { 1f } });
        var error = Assert.Throws<OnnxGraphMismatchException>(() => OnnxResNetImporter.Import(model, "stray.onnx"));
        StringAssert.Contains(error.Message, "Stray1");
    }
}
