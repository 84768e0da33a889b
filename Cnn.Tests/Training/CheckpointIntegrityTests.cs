using Cnn.Tests.Support;
using Cnn.Training.Training;
using Cnn.Zoo.Layers;
using Cnn.Zoo.Models;
using TorchSharp;

namespace Cnn.Tests.Training;

/// <summary>
/// Every read of a checkpoint checks its SHA-256, so no damaged copy loads, not even the info alone; checkpoints
/// written before checksums still load.
/// </summary>
[TestClass]
public sealed class CheckpointIntegrityTests
{
    static CheckpointInfo Info => new() { Model = "lenet5", NumClasses = 10, Classes = [.. Enumerable.Range(0, 10).Select(i => $"c{i}")], Epoch = 3 };

    static (string Path, LeNet5 Model) Saved(TempFolder folder)
    {
        torch.manual_seed(7);
        var model = new LeNet5(activation: Activation.ReLU);
        var optimizer = torch.optim.Adam(model.parameters(), 1e-3);
        // One step, so the optimizer has state (Adam's moments) to save.
        using (var scope = torch.NewDisposeScope())
        {
            optimizer.zero_grad();
            model.call(torch.randn(2, 1, 32, 32)).sum().backward();
            optimizer.step();
        }
        string path = folder.File("last.ckpt");
        Checkpoint.Save(path, model, optimizer, Info);
        return (path, model);
    }

    [TestMethod]
    public void NoDamagedCopyLoadsNorEvenYieldsItsInfo()
    {
        using var folder = new TempFolder("damaged");
        var (path, _) = Saved(folder);
        byte[] original = File.ReadAllBytes(path);
        static bool Documented(Exception e) => e is InvalidDataException;

        var info = Corruption.Run("checkpoint (ReadInfo)", path, original, () => Checkpoint.ReadInfo(path), Documented, seed: 51);
        var load = Corruption.Run("checkpoint (Load)", path, original, () =>
        {
            var model = new LeNet5(activation: Activation.ReLU);
            Checkpoint.Load(path, model, torch.optim.Adam(model.parameters(), 1e-3));
        }, Documented, seed: 52);

        Assert.AreEqual(0, info.Loaded, "a damaged checkpoint gave its info");
        Assert.AreEqual(0, load.Loaded, "a damaged checkpoint loaded");
    }

    [TestMethod]
    public void ACheckpointCutInHalfIsRefusedByNameThoughItsInfoSurvived()
    {
        using var folder = new TempFolder("half");
        var (path, _) = Saved(folder);
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..(int)(new FileInfo(path).Length / 2)]);

        var e = Assert.ThrowsExactly<InvalidDataException>(() => Checkpoint.ReadInfo(path));

        StringAssert.Contains(e.Message, path);
        StringAssert.Contains(e.Message, "SHA-256");
        StringAssert.Contains(e.Message, "truncated or changed");
    }

    [TestMethod]
    public void AnIntactCheckpointRestoresItsWeights()
    {
        using var folder = new TempFolder("intact");
        var (path, model) = Saved(folder);

        var copy = new LeNet5(activation: Activation.ReLU);
        var copyOptimizer = torch.optim.Adam(copy.parameters(), 1e-3);
        var info = Checkpoint.Load(path, copy, copyOptimizer, restoreRng: true);

        Assert.AreEqual(3, info.Epoch);
        CollectionAssert.AreEqual(Info.Classes.ToArray(), info.Classes.ToArray());
        foreach (var (key, tensor) in model.state_dict())
            Assert.IsTrue(torch.equal(tensor, copy.state_dict()[key]).all().item<bool>(), key);
        Assert.AreEqual("lenet5", Checkpoint.ReadInfo(path).Model);
    }

    [TestMethod]
    public void AVersion1CheckpointWithoutChecksumStillLoads()
    {
        torch.manual_seed(9);
        var model = new LeNet5(activation: Activation.ReLU);
        using var pathTemp = new TempFolder("legacy");
        string path = Path.Combine(pathTemp.Path, "old.ckpt");
        LegacyCheckpoint.WriteVersion1(path, model, Info);

        var copy = new LeNet5(activation: Activation.ReLU);
        var info = Checkpoint.Load(path, copy);

        Assert.AreEqual("lenet5", Checkpoint.ReadInfo(path).Model);
        Assert.AreEqual(3, info.Epoch);
        foreach (var (key, tensor) in model.state_dict())
            Assert.IsTrue(torch.equal(tensor, copy.state_dict()[key]).all().item<bool>(), key);

        File.WriteAllBytes(path, File.ReadAllBytes(path)[..5000]);
        var e = Assert.ThrowsExactly<InvalidDataException>(() => Checkpoint.Load(path, new LeNet5(activation: Activation.ReLU)));
        StringAssert.Contains(e.Message, path);
        StringAssert.Contains(e.Message, "truncated");
    }

    [TestMethod]
    public void AFileOfAnotherKindSaysWhatACheckpointStartsWith()
    {
        using var pathTemp = new TempFolder("other");
        string path = Path.Combine(pathTemp.Path, "weights.ckpt");
        File.WriteAllBytes(path, [0x50, 0x4B, 0x03, 0x04, 1, 2, 3]);

        var e = Assert.ThrowsExactly<InvalidDataException>(() => Checkpoint.ReadInfo(path));

        StringAssert.Contains(e.Message, path);
        StringAssert.Contains(e.Message, "CNNZOO-CKPT-SHA256");
        StringAssert.Contains(e.Message, "504B0304");
    }
}
