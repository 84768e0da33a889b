using System.Text.Json;
using Cnn.Onnx;
using Cnn.Tests.Support;
using Cnn.Training.Training;
using Cnn.Transfer;
using Cnn.Zoo;
using static Cnn.Tests.Cli.CliRunner;

namespace Cnn.Tests.Onnx;

/// <summary><c>cnnzoo export</c> and <c>--backend onnxruntime</c>, run in-process as a user runs them.</summary>
[TestClass]
public sealed class ExportCommandTests
{
    static string folder = "";

    [ClassInitialize]
    public static void MakeFiles(TestContext _)
    {
        folder = new TempFolder("export-command").Path;
        using var lenet = ModelRegistry.Create("lenet5", 10, ModelOptions.Parse(["activation=relu", "pooling=max"]));
        DeterministicWeights.Apply(lenet);
        Checkpoint.Save(Path.Combine(folder, "lenet5.ckpt"), lenet, null, new CheckpointInfo
        {
            Model = "lenet5", NumClasses = 10, ModelOptions = new() { ["activation"] = "relu", ["pooling"] = "max" },
            Classes = [.. Enumerable.Range(0, 10).Select(i => i.ToString())], InputShape = [1, 32, 32], Mean = [0.1307f], Std = [0.3081f],
        });
        Checkpoint.Save(Path.Combine(folder, "named.ckpt"), lenet, null, new CheckpointInfo
        {
            Model = "lenet5", NumClasses = 10, ModelOptions = new() { ["activation"] = "relu", ["pooling"] = "max" },
            Classes = [.. Enumerable.Range(0, 10).Select(i => $"digit {i}")], InputShape = [1, 32, 32], Mean = [0.1307f], Std = [0.3081f],
        });
        using var plain = ModelRegistry.Create("lenet5", 10);
        Weights.Save(plain, Path.Combine(folder, "lenet5.pt"));
    }

    [ClassCleanup]
    public static void RemoveFiles() => Directory.Delete(folder, recursive: true);

    [TestMethod]
    public void ACheckpointExportsWithItsClassesAndPreprocessing()
    {
        string output = Path.Combine(folder, "from-checkpoint.onnx");
        var run = Run("export", "--checkpoint", Path.Combine(folder, "named.ckpt"), "--out", output);
        Assert.AreEqual(0, run.Code, run.Error);
        StringAssert.Contains(run.Output, "Checked in ONNX Runtime");
        using var onnx = OnnxRuntimeModel.Load(output);
        Assert.AreEqual("digit 7", JsonSerializer.Deserialize<string[]>(onnx.Metadata[OnnxMetadataKeys.Classes])![7]);
        CollectionAssert.AreEqual(new[] { 0.1307 }, JsonSerializer.Deserialize<double[]>(onnx.Metadata[OnnxMetadataKeys.Mean])!.Select(v => Math.Round(v, 6)).ToArray());
        Assert.AreEqual("32", onnx.Metadata[OnnxMetadataKeys.Resize]);
    }

    [TestMethod]
    public void AModelWithAWeightsFileExports()
    {
        string output = Path.Combine(folder, "from-weights.onnx");
        var run = Run("export", "--model", "lenet5", "--weights", Path.Combine(folder, "lenet5.pt"), "--out", output);
        Assert.AreEqual(0, run.Code, run.Error);
        Assert.IsTrue(File.Exists(output));
    }

    [TestMethod]
    [DataRow(new[] { "--out", "x.onnx" }, "export needs --checkpoint FILE, or --model NAME --weights NAME|FILE")]
    [DataRow(new[] { "--model", "lenet5", "--weights", "lenet5.pt" }, "--out FILE.onnx")]
    [DataRow(new[] { "--checkpoint", "a.ckpt", "--model", "lenet5", "--out", "x.onnx" }, "not both")]
    public void AnIncompleteCommandLineSaysWhatIsMissing(string[] args, string message)
    {
        var run = Run(["export", .. args]);
        Assert.AreEqual(2, run.Code);
        StringAssert.Contains(run.Error, message);
        AssertNoStackTrace(run.Error);
    }

    [TestMethod]
    public void AMissingWeightsFileIsNamed()
    {
        string missing = Path.Combine(folder, "missing.pt");
        var run = Run("export", "--model", "lenet5", "--weights", missing, "--out", Path.Combine(folder, "x.onnx"));
        Assert.AreEqual(1, run.Code);
        StringAssert.Contains(run.Error, missing);
        AssertNoStackTrace(run.Error);
    }

    [TestMethod]
    public void EvalGivesTheSameAccuracyWithEitherBackend()
    {
        string checkpoint = Path.Combine(folder, "lenet5.ckpt");
        var torch = Run("eval", "--checkpoint", checkpoint, "--data", "mnist", "--threads", "2");
        var onnx = Run("eval", "--checkpoint", checkpoint, "--data", "mnist", "--threads", "2", "--backend", "onnxruntime");
        Assert.AreEqual(0, torch.Code, torch.Error);
        Assert.AreEqual(0, onnx.Code, onnx.Error);
        string Accuracy(string output)
        {
            string line = output.Split('\n').First(l => l.Contains("top-1", StringComparison.Ordinal));
            return line[line.IndexOf("top-1", StringComparison.Ordinal)..];
        }
        Assert.AreEqual(Accuracy(torch.Output), Accuracy(onnx.Output), "the same top-1 and top-5 on 2,000 digits");
    }

    [TestMethod]
    public void AnUnknownBackendListsTheAllowedOnes()
    {
        var run = Run("eval", "--checkpoint", Path.Combine(folder, "lenet5.ckpt"), "--backend", "tensorrt");
        Assert.AreEqual(2, run.Code);
        StringAssert.Contains(run.Error, "onnxruntime");
    }
}
