using Cnn.Zoo;
using Cnn.Transfer;
using Cnn.Zoo.Models;
using TorchSharp;
using static Cnn.Tests.Transfer.TransferFixtures;
using static TorchSharp.torch;

namespace Cnn.Tests.Transfer;

/// <summary>Reading the files PyTorch wrote (tools/reference/make_transfer_fixtures.py) and rejecting broken ones.</summary>
[TestClass]
public sealed class WeightsReadTests
{
    [TestMethod]
    [DataRow("lenet5.pt")]
    [DataRow("lenet5_checkpoint.pt")]
    [DataRow("lenet5.safetensors")]
    public void Read_GivesPyTorchsTensorsUnderModelKeys(string file)
    {
        var expected = DeterministicLeNetState(FixtureSalt);
        var read = Weights.Read(PathOf(file));
        try
        {
            CollectionAssert.AreEquivalent(expected.Keys.ToList(), read.Keys.ToList());
            foreach (var (key, value) in expected)
            {
                Assert.AreEqual(ScalarType.Float32, read[key].dtype, key);
                Assert.IsTrue(BitEqual(value, read[key]), $"{key} differs from the values PyTorch saved");
            }
        }
        finally
        {
            foreach (var t in read.Values.Concat(expected.Values)) t.Dispose();
        }
    }

    [TestMethod]
    public void Read_CheckpointWithoutContainers_NamesWhatTheFileHolds()
    {
        var e = Assert.ThrowsExactly<InvalidDataException>(() => Weights.Read(PathOf("lenet5_checkpoint.pt"), KeyMapping.None));
        StringAssert.Contains(e.Message, "lenet5_checkpoint.pt");
        StringAssert.Contains(e.Message, "'state_dict'");
        StringAssert.Contains(e.Message, "'epoch'");
    }

    [TestMethod]
    public void Read_UnwrapWithoutRenaming_KeepsDataParallelPrefix()
    {
        var read = Weights.Read(PathOf("lenet5_checkpoint.pt"), KeyMapping.Unwrap);
        try
        {
            Assert.HasCount(10, read);
            Assert.IsTrue(read.Keys.All(k => k.StartsWith("module.", StringComparison.Ordinal)), string.Join(", ", read.Keys));
        }
        finally
        {
            foreach (var t in read.Values) t.Dispose();
        }
    }

    [TestMethod]
    public void Load_ModelContainerWithModelPrefix_UnwrapsAndStrips()
    {
        using var model = nn.Sequential(nn.Linear(3, 4));
        var report = Weights.Load(model, PathOf("tiny_model_container.pt"));
        Assert.IsTrue(report.IsExact, report.ToString());
        CollectionAssert.AreEquivalent(new[] { "0.weight", "0.bias" }, report.Loaded.ToList());
        using var weight = arange(12, dtype: float32).reshape(4, 3) / 10;
        using var bias = tensor(new float[] { 1, 2, 3, 4 });
        var state = model.state_dict();
        Assert.IsTrue(BitEqual(state["0.weight"], weight));
        Assert.IsTrue(BitEqual(state["0.bias"], bias));
    }

    [TestMethod]
    public void Load_TrainingCheckpointWithOptimizerArgsAndNumpyValues_TakesTheModel()
    {
        // torchvision's reference train.py layout; PyBridge alone fails on the numpy scalar and array.
        using var model = nn.Sequential(nn.Linear(3, 4));
        var report = Weights.Load(model, PathOf("tiny_reference_checkpoint.pth"));
        Assert.IsTrue(report.IsExact, report.ToString());
        using var bias = tensor(new float[] { 1, 2, 3, 4 });
        Assert.IsTrue(BitEqual(model.state_dict()["0.bias"], bias));
    }

    [TestMethod]
    public void MissingFile_ThrowsFileNotFoundNamingThePath()
    {
        string path = PathOf("no_such_weights.pt");
        var e = Assert.ThrowsExactly<FileNotFoundException>(() => Weights.Read(path));
        Assert.AreEqual(path, e.FileName);
        StringAssert.Contains(e.Message, "no_such_weights.pt");
        using var model = new LeNet5();
        Assert.ThrowsExactly<FileNotFoundException>(() => Weights.Load(model, PathOf("no_such_weights.safetensors")));
    }

    [TestMethod]
    [DataRow("lenet5.pt", "truncated or corrupt")]
    [DataRow("lenet5.safetensors", "truncated")]
    public void TruncatedFile_ClearErrorAndModelUntouched(string file, string expectedWords)
    {
        using var dir = new TempFolder("transfer");
        string path = dir.File(file);
        var bytes = File.ReadAllBytes(PathOf(file));
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        using var model = new LeNet5();
        var before = Snapshot(model);

        var e = Assert.ThrowsExactly<InvalidDataException>(() => Weights.Load(model, path));
        StringAssert.Contains(e.Message, path);
        StringAssert.Contains(e.Message, expectedWords);
        Assert.IsEmpty(Changed(model, before));
    }

    [TestMethod]
    public void CorruptFiles_ClearErrorsNamingPathAndFormat()
    {
        using var dir = new TempFolder("transfer");
        var random = new Random(1);
        var garbage = new byte[4096];
        random.NextBytes(garbage);

        string notZip = dir.File("garbage.pt");
        File.WriteAllBytes(notZip, garbage);
        var e1 = Assert.ThrowsExactly<InvalidDataException>(() => Weights.Read(notZip));
        StringAssert.Contains(e1.Message, notZip);
        StringAssert.Contains(e1.Message, "torch.save");

        string brokenZip = dir.File("broken.pth");
        File.WriteAllBytes(brokenZip, [0x50, 0x4b, 0x03, 0x04, .. garbage]);
        var e2 = Assert.ThrowsExactly<InvalidDataException>(() => Weights.Read(brokenZip));
        StringAssert.Contains(e2.Message, brokenZip);
        StringAssert.Contains(e2.Message, "corrupt");

        string badHeader = dir.File("garbage.safetensors");
        File.WriteAllBytes(badHeader, [16, 0, 0, 0, 0, 0, 0, 0, .. "{not json at all"u8.ToArray()]);
        var e3 = Assert.ThrowsExactly<InvalidDataException>(() => Weights.Read(badHeader));
        StringAssert.Contains(e3.Message, badHeader);
        StringAssert.Contains(e3.Message, "JSON");

        string hugeHeader = dir.File("huge.safetensors");
        File.WriteAllBytes(hugeHeader, garbage);
        var e4 = Assert.ThrowsExactly<InvalidDataException>(() => Weights.Read(hugeHeader));
        StringAssert.Contains(e4.Message, "safetensors");

        string empty = dir.File("empty.bin");
        File.WriteAllBytes(empty, []);
        var e5 = Assert.ThrowsExactly<InvalidDataException>(() => Weights.Read(empty));
        StringAssert.Contains(e5.Message, "0 bytes");
    }

    [TestMethod]
    public void ZipWithoutPickle_IsNotACheckpoint()
    {
        using var dir = new TempFolder("transfer");
        string path = dir.File("archive.pt");
        using (var zip = System.IO.Compression.ZipFile.Open(path, System.IO.Compression.ZipArchiveMode.Create))
            zip.CreateEntry("readme.txt");
        var e = Assert.ThrowsExactly<InvalidDataException>(() => Weights.Read(path));
        StringAssert.Contains(e.Message, "data.pkl");
    }

    [TestMethod]
    public void LegacyTorchSaveFormat_AsksForAResave()
    {
        var e = Assert.ThrowsExactly<InvalidDataException>(() => Weights.Read(PathOf("tiny_legacy_format.pt")));
        StringAssert.Contains(e.Message, "tiny_legacy_format.pt");
        StringAssert.Contains(e.Message, "re-saved");
    }

    [TestMethod]
    public void UnknownExtension_NamesTheSupportedOnes()
    {
        var e = Assert.ThrowsExactly<InvalidChoiceException>(() => Weights.Read(PathOf("lenet5_expected.json")));
        StringAssert.Contains(e.Message, ".safetensors");
        StringAssert.Contains(e.Message, ".pt");
    }
}
