using System.Buffers.Binary;
using System.Text.Json;
using Cnn.Transfer;
using Cnn.Zoo.Models;
using static Cnn.Tests.Transfer.TransferFixtures;
using static TorchSharp.torch;

namespace Cnn.Tests.Transfer;

/// <summary>Saving: C# reads back what it wrote, and PyTorch strict-loads it (checked by the fixture script).</summary>
[TestClass]
public sealed class TransferRoundTripTests
{
    [TestMethod]
    [DataRow("weights.pt")]
    [DataRow("weights.pth")]
    [DataRow("weights.safetensors")]
    public void SaveThenRead_IsBitExact(string file)
    {
        using var dir = new TempDirectory();
        using var model = DeterministicLeNet(RoundTripSalt);
        Weights.Save(model, dir.File(file));

        using var fresh = new LeNet5();
        var report = Weights.Load(fresh, dir.File(file));
        Assert.IsTrue(report.IsExact, report.ToString());
        Assert.IsEmpty(Changed(fresh, Snapshot(model)));
        Assert.IsTrue(fresh.parameters().All(p => p.requires_grad));
    }

    [TestMethod]
    public void SaveBatchNormModel_KeepsBuffersAndIntegerCounters()
    {
        using var dir = new TempDirectory();
        using var model = nn.Sequential(("conv", nn.Conv2d(3, 4, 3)), ("bn", nn.BatchNorm2d(4)));
        model.train();
        using (var x = randn(2, 3, 8, 8)) model.call(x).Dispose();   // running stats and num_batches_tracked move
        foreach (var file in new[] { "bn.pt", "bn.safetensors" })
        {
            Weights.Save(model, dir.File(file));
            using var fresh = nn.Sequential(("conv", nn.Conv2d(3, 4, 3)), ("bn", nn.BatchNorm2d(4)));
            Assert.IsTrue(Weights.Load(fresh, dir.File(file)).IsExact);
            Assert.IsEmpty(Changed(fresh, Snapshot(model)), file);
            Assert.AreEqual(1L, fresh.state_dict()["bn.num_batches_tracked"].item<long>());
        }
    }

    [TestMethod]
    public void SavedSafetensors_HasFormatMetadataAndAlignedHeaderInModelOrder()
    {
        using var dir = new TempDirectory();
        using var model = DeterministicLeNet(RoundTripSalt);
        Weights.Save(model, dir.File("w.safetensors"));
        var bytes = File.ReadAllBytes(dir.File("w.safetensors"));
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.AreEqual(0UL, headerLength % 8, "data starts 8-byte aligned");
        using var header = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
        var names = header.RootElement.EnumerateObject().Select(p => p.Name).ToList();
        Assert.AreEqual("__metadata__", names[0]);
        Assert.AreEqual("pt", header.RootElement.GetProperty("__metadata__").GetProperty("format").GetString());
        CollectionAssert.AreEqual(model.state_dict().Keys.ToList(), names.Skip(1).ToList());
    }

    [TestMethod]
    public void Save_ReplacesAtomicallyAndLeavesNoTemporaryFiles()
    {
        using var dir = new TempDirectory();
        string path = dir.File("w.pt");
        File.WriteAllText(path, "old contents");
        using var model = DeterministicLeNet(RoundTripSalt);
        Weights.Save(model, path);
        CollectionAssert.AreEqual(new[] { path }, Directory.GetFiles(dir.Path));
        using (var reloaded = new LeNet5()) Assert.IsTrue(Weights.Load(reloaded, path).IsExact);

        Assert.ThrowsExactly<ArgumentException>(() => Weights.Save(model, dir.File("w.onnx")));
        var e = Assert.ThrowsExactly<DirectoryNotFoundException>(() => Weights.Save(model, dir.File("missing/w.pt")));
        StringAssert.Contains(e.Message, "missing");
        CollectionAssert.AreEqual(new[] { path }, Directory.GetFiles(dir.Path), "failed saves leave nothing behind");
    }

    /// <summary>
    /// Writes csharp_lenet5.pt/.safetensors to bin/.../transfer_roundtrip and checks the committed result of
    /// <c>make_transfer_fixtures.py --verify</c> on such files: PyTorch strict-loaded them and got the weights and
    /// logits this test's model has. After changing the writers, rerun the script (tools/reference/README.md).
    /// </summary>
    [TestMethod]
    public void SavedFiles_MatchPythonVerification()
    {
        string outDir = Path.Combine(AppContext.BaseDirectory, "transfer_roundtrip");
        Directory.CreateDirectory(outDir);
        using var model = DeterministicLeNet(RoundTripSalt);
        Weights.Save(model, Path.Combine(outDir, "csharp_lenet5.pt"));
        Weights.Save(model, Path.Combine(outDir, "csharp_lenet5.safetensors"));

        using var x = DeterministicInput();
        using var logits = Logits(model, x);
        using var document = JsonDocument.Parse(File.ReadAllText(PathOf("csharp_roundtrip_verified.json")));
        var root = document.RootElement;
        Assert.AreEqual(RoundTripSalt, root.GetProperty("salt").GetInt32());
        foreach (var name in new[] { "csharp_lenet5.pt", "csharp_lenet5.safetensors" })
        {
            var entry = root.GetProperty("files").GetProperty(name);
            Assert.AreEqual("ok", entry.GetProperty("strict_load").GetString(), name);
            Assert.IsTrue(entry.GetProperty("keys_in_model_order").GetBoolean(), name);
            Assert.IsLessThan(1e-6, entry.GetProperty("max_abs_diff_weights").GetDouble(), name);
            Assert.IsLessThan(1e-6, entry.GetProperty("max_abs_diff_logits").GetDouble(), name);
            var pythonLogits = entry.GetProperty("logits").EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();
            using var python = tensor(pythonLogits, logits.shape);
            Assert.IsLessThan(1e-5f, MaxAbsDiff(python, logits), $"PyTorch's logits from {name} differ from ours");
        }
        Assert.AreEqual("pt", root.GetProperty("files").GetProperty("csharp_lenet5.safetensors")
                                  .GetProperty("metadata").GetProperty("format").GetString());
    }
}
