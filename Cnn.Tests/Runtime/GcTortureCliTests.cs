using Cnn.Tests.Cli;
using Cnn.Training.Training;
using Cnn.Transfer;
using Cnn.Zoo;

namespace Cnn.Tests.Runtime;

/// <summary>
/// Every verb that runs libtorch, as a child process with garbage collected continuously (tools/gc-torture's startup
/// hook): each must end with exit 0 and its normal output. Before <see cref="Cnn.Zoo.Runtime.NativeSafety"/>, train,
/// finetune and training on an image folder failed this way in every run, within seconds to a minute.
/// </summary>
[TestClass]
[TestCategory("Slow")]   // every verb as a child process under continuous garbage collection
public sealed class GcTortureCliTests
{
    static TempFolder folder = null!;
    static string digits = null!, lenet = null!, lenetWeights = null!;

    static string Hook => Path.Combine(AppContext.BaseDirectory, "Cnn.GcTorture.dll");

    [ClassInitialize]
    public static void Prepare(TestContext context)
    {
        folder = new TempFolder("gc-torture");
        digits = folder.File("digits");
        var export = CliRunner.Run("export-images", "--data", "mnist", "--per-class", "10", "--out", digits);
        Assert.AreEqual(0, export.Code, export.Error);
        lenet = folder.File("lenet5.ckpt");
        using (var model = ModelRegistry.Create("lenet5", 10))
            Checkpoint.Save(lenet, model, null, new CheckpointInfo
            {
                Model = "lenet5", NumClasses = 10, Classes = [.. Enumerable.Range(0, 10).Select(i => i.ToString())],
                InputShape = [1, 32, 32], Mean = [0.1307f], Std = [0.3081f],
            });
        // Fine-tuning's own code (freezing, the new head, discriminative groups) is the same for every model; LeNet-5
        // keeps the child process short (MobileNetV2 took 70 s under the hook).
        lenetWeights = folder.File("lenet5.pt");
        using (var model = ModelRegistry.Create("lenet5", 10)) Weights.Save(model, lenetWeights);
    }

    [ClassCleanup]
    public static void CleanUp() => folder.Dispose();

    static string Image(string digit) => Directory.GetFiles(Path.Combine(digits, "test", digit)).Order().First();

    /// <summary>Runs cnnzoo under the hook; returns standard output after asserting exit 0 and no stack trace.</summary>
    static string Tortured(params string[] args)
    {
        Assert.IsTrue(File.Exists(Hook), $"the startup hook was not built beside the tests: {Hook}");
        var (code, output, error) = CliRunner.RunProcess(folder.Path, TimeSpan.FromMinutes(8),
            new Dictionary<string, string> { ["DOTNET_STARTUP_HOOKS"] = Hook }, args);
        StringAssert.Contains(error, "gc-torture: collecting garbage continuously", "the hook was not loaded");
        Assert.AreEqual(0, code, $"cnnzoo {string.Join(' ', args)} under continuous collection:\n{output}\n{error}");
        CliRunner.AssertNoStackTrace(output + error);
        return output;
    }

    string Out(string name) => folder.File("runs-" + name);

    [TestMethod]
    public void Train() =>
        StringAssert.Contains(Tortured("train", "--epochs", "2", "--train-per-class", "30", "--out", Out("train")), "Done (Completed)");

    [TestMethod]
    public void TrainMobileNetOnAnImageFolder() =>
        StringAssert.Contains(Tortured("train", "--model", "mobilenet_v2", "--data", Path.Combine(digits, "train"),
                                       "--input-size", "32", "--epochs", "1", "--train-per-class", "3", "--batch-size", "10", "--out", Out("mobilenet")), "Done (Completed)");

    [TestMethod]
    public void Finetune() =>
        StringAssert.Contains(Tortured("finetune", "--model", "lenet5", "--weights", lenetWeights,
                                       "--data", Path.Combine(digits, "train"), "--input-size", "32", "--epochs", "1", "--train-per-class", "3",
                                       "--unfreeze-epochs", "1", "--batch-size", "10", "--out", Out("finetune")), "final.ckpt");

    [TestMethod]
    public void Handoff() =>
        StringAssert.Contains(Tortured("handoff", "--model", "lenet5", "--weights", lenetWeights, "--data", Path.Combine(digits, "train"),
                                       "--out", Out("handoff")), "torchrun");

    [TestMethod]
    public void Eval() => StringAssert.Contains(Tortured("eval", "--checkpoint", lenet, "--data", "mnist"), "top-1");

    [TestMethod]
    public void Predict() => StringAssert.Contains(Tortured("predict", "--checkpoint", lenet, Image("3"), Image("7")), "%");

    [TestMethod]
    public void Explain() =>
        StringAssert.Contains(Tortured("explain", "--checkpoint", lenet, "--out", Out("explain"), Image("7")), "Grad-CAM");

    [TestMethod]
    public void Export() =>
        StringAssert.Contains(Tortured("export", "--checkpoint", lenet, "--out", folder.File("lenet5.onnx")), "Checked in ONNX Runtime");

    [TestMethod]
    public void Bench() =>
        StringAssert.Contains(Tortured("bench", "--models", "lenet5", "--repeats", "1", "--warmup", "0",
                                       "--sample-seconds", "0.1", "--skip", "loader,memory", "--out", Out("bench")), "bench.json");
}
