using Cnn.Zoo;
using System.Buffers.Binary;
using System.Text.Json;
using Cnn.Transfer;
using Cnn.Zoo.Models;
using static Cnn.Tests.Transfer.TransferFixtures;
using static TorchSharp.torch;

namespace Cnn.Tests.Transfer;

/// <summary>Saving: C# reads back what it wrote, and writes what PyTorch writes.</summary>
[TestClass]
public sealed class TransferRoundTripTests
{
    [TestMethod]
    [DataRow("weights.pt")]
    [DataRow("weights.pth")]
    [DataRow("weights.safetensors")]
    public void SaveThenRead_IsBitExact(string file)
    {
        using var dir = new TempFolder("transfer");
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
        using var dir = new TempFolder("transfer");
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
        using var dir = new TempFolder("transfer");
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
        using var dir = new TempFolder("transfer");
        string path = dir.File("w.pt");
        File.WriteAllText(path, "old contents");
        using var model = DeterministicLeNet(RoundTripSalt);
        Weights.Save(model, path);
        CollectionAssert.AreEqual(new[] { path }, Directory.GetFiles(dir.Path));
        using (var reloaded = new LeNet5()) Assert.IsTrue(Weights.Load(reloaded, path).IsExact);

        Assert.ThrowsExactly<InvalidChoiceException>(() => Weights.Save(model, dir.File("w.onnx")));
        var e = Assert.ThrowsExactly<DirectoryNotFoundException>(() => Weights.Save(model, Path.Combine(dir.Path, "missing", "w.pt")));
        StringAssert.Contains(e.Message, "missing");
        CollectionAssert.AreEqual(new[] { path }, Directory.GetFiles(dir.Path), "failed saves leave nothing behind");
    }

    /// <summary>
    /// The files Weights.Save writes hold what PyTorch's own files hold: lenet5_roundtrip.pt is
    /// <c>torch.save(model.state_dict())</c> of the same deterministic LeNet-5, written and strict-loaded back by PyTorch
    /// in tools/reference/make_transfer_fixtures.py. Both archives are decoded here without PyBridge and compared
    /// record for record, tensor for tensor (key order, rebuild call, storage type, offset, size, stride,
    /// requires_grad, bytes). The files go to bin/.../transfer_roundtrip, where the script's <c>--verify</c> can load
    /// them in PyTorch by hand.
    /// </summary>
    [TestMethod]
    public void SavedPt_HasTheContentsOfPyTorchsTorchSave()
    {
        string saved = Path.Combine(RoundTripFolder(), "csharp_lenet5.pt");
        using (var model = DeterministicLeNet(RoundTripSalt)) Weights.Save(model, saved);

        var ours = TorchSaveContents.Read(saved);
        var pytorch = TorchSaveContents.Read(PathOf("lenet5_roundtrip.pt"));
        CollectionAssert.AreEqual(pytorch.Records.ToList(), ours.Records.ToList(), "archive records");
        using (var zip = System.IO.Compression.ZipFile.OpenRead(saved))
        {
            var deflated = zip.Entries.Where(e => e.CompressedLength != e.Length).Select(e => e.FullName).ToList();
            Assert.IsEmpty(deflated, $"records stored as torch.save stores them, not deflated: {string.Join(", ", deflated)}");
        }
        Assert.AreEqual(pytorch.Version, ours.Version, "archive format version");
        CollectionAssert.AreEqual(pytorch.Tensors.Select(t => t.Key).ToList(), ours.Tensors.Select(t => t.Key).ToList(), "keys in order");
        foreach (var (expected, actual) in pytorch.Tensors.Zip(ours.Tensors))
        {
            Assert.AreEqual(expected.Rebuild, actual.Rebuild, $"{expected.Key} rebuild function");
            Assert.AreEqual(expected.Storage, actual.Storage, $"{expected.Key} storage");
            Assert.AreEqual(expected.Offset, actual.Offset, $"{expected.Key} storage offset");
            Assert.AreEqual(expected.RequiresGrad, actual.RequiresGrad, $"{expected.Key} requires_grad");
            Assert.AreEqual(expected.Hooks, actual.Hooks, $"{expected.Key} backward hooks");
            CollectionAssert.AreEqual(expected.Size, actual.Size, $"{expected.Key} size");
            CollectionAssert.AreEqual(expected.Stride, actual.Stride, $"{expected.Key} stride");
            CollectionAssert.AreEqual(expected.Bytes, actual.Bytes, $"{expected.Key} storage bytes");
        }
    }

    /// <summary>
    /// The same for safetensors: lenet5_roundtrip.safetensors was written by the fixture script to the format's
    /// specification (the <c>safetensors</c> package is not in Debian) and strict-loaded back into PyTorch there. Header
    /// entries (metadata first, then keys in model order with dtype, shape and offsets) and every tensor's bytes must
    /// be equal.
    /// </summary>
    [TestMethod]
    public void SavedSafetensors_HasTheContentsOfTheReferenceFile()
    {
        string saved = Path.Combine(RoundTripFolder(), "csharp_lenet5.safetensors");
        using (var model = DeterministicLeNet(RoundTripSalt)) Weights.Save(model, saved);

        var (oursHeader, oursData) = ReadSafetensors(saved);
        var (referenceHeader, referenceData) = ReadSafetensors(PathOf("lenet5_roundtrip.safetensors"));
        CollectionAssert.AreEqual(referenceHeader, oursHeader, "header entries in order");
        CollectionAssert.AreEqual(referenceData, oursData, "tensor data");
    }

    static string RoundTripFolder()
    {
        string folder = Path.Combine(AppContext.BaseDirectory, "transfer_roundtrip");
        Directory.CreateDirectory(folder);
        return folder;
    }

    /// <summary>The header as "name: entry JSON" lines in file order (JSON re-serialised compactly), and the data bytes.</summary>
    static (List<string> Header, byte[] Data) ReadSafetensors(string path)
    {
        var bytes = File.ReadAllBytes(path);
        int length = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(bytes));
        using var header = JsonDocument.Parse(bytes.AsMemory(8, length));
        var entries = header.RootElement.EnumerateObject().Select(p => $"{p.Name}: {JsonSerializer.Serialize(p.Value)}").ToList();
        return (entries, bytes[(8 + length)..]);
    }
}
