using Cnn.Onnx;
using Cnn.Tests.Support;
using Cnn.Zoo;
using Cnn.Zoo.Inference;
using TorchSharp;
using static Cnn.Tests.Onnx.OnnxExportTests;
using static TorchSharp.torch;

namespace Cnn.Tests.Onnx;

/// <summary>ONNX Runtime as an inference backend: the same module face and the same outputs as the torch model.</summary>
[TestClass]
public sealed class OnnxRuntimeModelTests
{
    [TestMethod]
    [DataRow("resnet18")]
    [DataRow("mobilenet_v2")]
    [DataRow("lenet5")]
    public void GivesTheTorchModelsOutputs(string name)
    {
        using var model = ModelRegistry.Create(name, 10);
        DeterministicWeights.Apply(model);
        model.eval();
        int size = model.Input.FixedSize ? model.Input.Height : 64;
        using var backend = OnnxRuntimeModel.Create(model, new OnnxRuntimeOptions(Threads: 2), new OnnxExportOptions(size, size));
        using var x = DeterministicWeights.Input(2, model.Input.Channels, size, size);
        using var y = backend.call(x);
        CollectionAssert.AreEqual(new long[] { 2, 10 }, y.shape);
        Assert.AreEqual(ScalarType.Float32, y.dtype);
        AssertClose(ZooOutput(model, x), y.data<float>().ToArray(), 1e-4, $"{name} in ONNX Runtime vs torch");
    }

    [TestMethod]
    public void AcceptsChannelsLastAndDoublePrecisionBatches()
    {
        using var model = ModelRegistry.Create("resnet18", 10);
        DeterministicWeights.Apply(model);
        model.eval();
        using var backend = OnnxRuntimeModel.Create(model, export: new OnnxExportOptions(64, 64));
        using var x = DeterministicWeights.Input(2, 3, 64, 64);
        using var plain = backend.call(x);
        using var channelsLast = MemoryFormat.ToChannelsLast(x);
        using var fromChannelsLast = backend.call(channelsLast);
        using var doubles = x.to_type(ScalarType.Float64);
        using var fromDoubles = backend.call(doubles);
        Assert.IsTrue(torch.equal(plain, fromChannelsLast).all().item<bool>(), "channels-last strides give the same values");
        Assert.IsTrue(torch.allclose(plain, fromDoubles, rtol: 1e-6, atol: 1e-6), "a float64 batch is converted");
    }

    [TestMethod]
    public void ABatchOfTheWrongShapeGetsAMessageWithTheExpectedShape()
    {
        using var model = ModelRegistry.Create("lenet5", 10);
        using var backend = OnnxRuntimeModel.Create(model);
        CollectionAssert.AreEqual(new long[] { -1, 1, 32, 32 }, backend.InputShape.ToArray());
        using var x = torch.zeros(2, 1, 28, 28);
        var error = Assert.ThrowsExactly<ArgumentException>(() => backend.call(x));
        StringAssert.Contains(error.Message, "expects [N, 1, 32, 32]");
        StringAssert.Contains(error.Message, "found [2, 1, 28, 28]");
    }

    [TestMethod]
    public void IsForInferenceOnly()
    {
        using var model = ModelRegistry.Create("lenet5", 10);
        using var backend = OnnxRuntimeModel.Create(model);
        Assert.IsFalse(backend.training);
        backend.eval();
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => backend.train());
        StringAssert.Contains(error.Message, "inference only");
    }

    [TestMethod]
    public void LoadsAnExportedFileWithItsMetadata()
    {
        using var folderTemp = new TempFolder("onnx-backend");
        string folder = folderTemp.Path;
        try
        {
            using var model = ModelRegistry.Create("lenet5", 3);
            DeterministicWeights.Apply(model);
            model.eval();
            string path = Path.Combine(folder, "lenet5.onnx");
            OnnxExport.Export(model, path, new OnnxExportOptions(ClassNames: ["zero", "one", "two"]));
            using var fromFile = OnnxRuntimeModel.Load(path, new OnnxRuntimeOptions(Threads: 1));
            using var inMemory = OnnxRuntimeModel.Create(model);
            Assert.AreEqual("lenet5", fromFile.Metadata[OnnxMetadataKeys.Model]);
            Assert.AreEqual("[\"zero\",\"one\",\"two\"]", fromFile.Metadata[OnnxMetadataKeys.Classes]);
            using var x = DeterministicWeights.Input(4, 1, 32, 32);
            using var a = fromFile.call(x);
            using var b = inMemory.call(x);
            Assert.IsTrue(torch.equal(a, b).all().item<bool>());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    public void AMissingOrDamagedFileIsNamedInTheError()
    {
        using var folderTemp = new TempFolder("onnx-damaged");
        string folder = folderTemp.Path;
        try
        {
            string missing = Path.Combine(folder, "missing.onnx");
            var notFound = Assert.ThrowsExactly<FileNotFoundException>(() => OnnxRuntimeModel.Load(missing));
            StringAssert.Contains(notFound.Message, missing);

            using var model = ModelRegistry.Create("lenet5", 10);
            byte[] bytes = OnnxExport.ToBytes(model);
            string damaged = Path.Combine(folder, "damaged.onnx");
            File.WriteAllBytes(damaged, bytes[..(bytes.Length / 2)]);
            var error = Assert.ThrowsExactly<InvalidDataException>(() => OnnxRuntimeModel.Load(damaged));
            StringAssert.Contains(error.Message, damaged);
            StringAssert.Contains(error.Message, "cnnzoo export");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
