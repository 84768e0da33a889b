using System.Globalization;
using Cnn.Onnx.Import;
using Cnn.Tests.Cli;
using Cnn.Tests.Data;
using Cnn.Tests.Support;
using Cnn.Tests.Transfer;
using Cnn.Training.Training;
using Cnn.Transfer;
using Cnn.Transfer.Catalog;
using Cnn.Zoo;

namespace Cnn.Tests.Catalog;

/// <summary>
/// <c>--weights NAME|FILE</c> on the command line, offline: TORCH_HOME points at a folder of the test, where a
/// stand-in for a published file is placed under its published name, as a PyTorch user's earlier download would be.
/// </summary>
[TestClass]
public sealed class PretrainedCliTests
{
    static string folder = null!;
    static string image = null!;
    static string? previousTorchHome, previousMirror;

    /// <summary>mobilenet_v2's DEFAULT file name, with the zoo's mobilenet_v2 at deterministic weights inside.</summary>
    static readonly string MobileNetFile = ((PublishedFile)WeightsCatalog.Default.Get("mobilenet_v2").Source).FileName;

    static string Checkpoints => Path.Combine(folder, "torch", "hub", "checkpoints");

    [ClassInitialize]
    public static void PlaceStandIn(TestContext _)
    {
        folder = new TempFolder("pretrained-cli").Path;
        Directory.CreateDirectory(Checkpoints);
        using (var model = ModelRegistry.Create("mobilenet_v2"))
        {
            DeterministicWeights.Apply(model);
            Weights.Save(model, Path.Combine(Checkpoints, MobileNetFile));
        }
        image = Path.Combine(folder, "picture.png");
        File.WriteAllBytes(image, TestFiles.GradientPng(40, 30));
        (previousTorchHome, previousMirror) = (Environment.GetEnvironmentVariable("TORCH_HOME"), Environment.GetEnvironmentVariable(WeightsCache.MirrorVariable));
        Environment.SetEnvironmentVariable("TORCH_HOME", Path.Combine(folder, "torch"));
        // Anything not in the cache would be fetched from a port where nothing listens: no test reaches the internet.
        Environment.SetEnvironmentVariable(WeightsCache.MirrorVariable, $"http://127.0.0.1:{LoopbackServer.FreePort()}/models/");
    }

    [ClassCleanup]
    public static void Restore()
    {
        Environment.SetEnvironmentVariable("TORCH_HOME", previousTorchHome);
        Environment.SetEnvironmentVariable(WeightsCache.MirrorVariable, previousMirror);
        Directory.Delete(folder, recursive: true);
    }

    [TestMethod]
    public void Predict_ByName_PrintsTopFiveCategoryNames()
    {
        var run = CliRunner.Run("predict", "--model", "mobilenet_v2", "--weights", "DEFAULT", image);
        Assert.AreEqual(0, run.Code, run.Error);
        var lines = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("Precision:", StringComparison.Ordinal)).ToArray();
        Assert.AreEqual(image, lines[0]);
        var rows = lines.Skip(1).Select(l => l.Trim()).ToList();
        Assert.HasCount(5, rows);
        var percents = new List<double>();
        foreach (string row in rows)
        {
            int cut = row.LastIndexOf(' ');
            string name = row[..cut].Trim();
            CollectionAssert.Contains(WeightsCatalog.ImageNetCategories.ToList(), name, row);
            percents.Add(double.Parse(row[(cut + 1)..].TrimEnd('%'), CultureInfo.InvariantCulture));
        }
        CollectionAssert.AreEqual(percents.OrderDescending().ToList(), percents, "most probable first");
        // A cached file needs no download; the one line allowed is the machine note (OneDnnGuard) some CPUs get.
        Assert.IsEmpty(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("note: ", StringComparison.Ordinal)),
                       "a cached file needs no download, so nothing is reported");
    }

    [TestMethod]
    public void Predict_PublishedFileByPath_GetsItsEntry()
    {
        var run = CliRunner.Run("predict", "--model", "mobilenet_v2", "--weights", Path.Combine(Checkpoints, MobileNetFile), image, "--top", "1");
        Assert.AreEqual(0, run.Code, run.Error);
        string row = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("Precision:", StringComparison.Ordinal)).ToArray()[1].Trim();
        CollectionAssert.Contains(WeightsCatalog.ImageNetCategories.ToList(), row[..row.LastIndexOf(' ')].Trim());
    }

    [TestMethod]
    public void Predict_PlainFile_PrintsClassNumbers()
    {
        var run = CliRunner.Run("predict", "--model", "lenet5", "--weights", TransferFixtures.PathOf("lenet5.pt"), image, "--top", "3");
        Assert.AreEqual(0, run.Code, run.Error);
        StringAssert.Contains(run.Output, "class ");
    }

    [TestMethod]
    public void Predict_NotCachedAndUnreachable_SaysWhereToPutTheFile()
    {
        var run = CliRunner.Run("predict", "--model", "resnet50", "--weights", "IMAGENET1K_V2", image);
        Assert.AreEqual(1, run.Code);
        StringAssert.Contains(run.Error, "resnet50-11ad3fa6.pth");
        StringAssert.Contains(run.Error, Environment.GetEnvironmentVariable(WeightsCache.MirrorVariable) + "resnet50-11ad3fa6.pth");
        StringAssert.Contains(run.Error, Path.Combine(Checkpoints, "resnet50-11ad3fa6.pth"));
        CliRunner.AssertNoStackTrace(run.Error + run.Output);
        Assert.IsFalse(File.Exists(Path.Combine(Checkpoints, "resnet50-11ad3fa6.pth")));
    }

    [TestMethod]
    [TestCategory("Slow")]   // one fine-tuning epoch of MobileNetV2
    public void Finetune_WithAModelAndNoWeights_SaysWhatItLoadsBeforeFetching()
    {
        var run = CliRunner.Run("finetune", "--model", "resnet50", "--data", "fashion-mnist", "--out", Path.Combine(folder, "runs-resnet50"));
        Assert.AreEqual(1, run.Code, "nothing listens at the mirror");
        string url = Environment.GetEnvironmentVariable(WeightsCache.MirrorVariable) + "resnet50-11ad3fa6.pth";
        StringAssert.Contains(run.Output, $"--weights not given: loading resnet50 IMAGENET1K_V2, first fetched from {url} into " +
                                          Path.Combine(Checkpoints, "resnet50-11ad3fa6.pth"));
        CliRunner.AssertNoStackTrace(run.Error + run.Output);

        var cached = CliRunner.Run("finetune", "--model", "mobilenet_v2", "--data", "fashion-mnist", "--train-per-class", "1",
                                   "--epochs", "1", "--unfreeze-epochs", "0", "--input-size", "32", "--workers", "1",
                                   "--out", Path.Combine(folder, "runs-mobilenet"));
        Assert.AreEqual(0, cached.Code, cached.Error);
        StringAssert.Contains(cached.Output, $"--weights not given: loading mobilenet_v2 IMAGENET1K_V2 from the cache ({Path.Combine(Checkpoints, MobileNetFile)})");
    }

    [TestMethod]
    public void Predict_WrongWeightsNameOrNoModel_IsExplained()
    {
        var unknown = CliRunner.Run("predict", "--model", "resnet50", "--weights", "IMAGENET1K_V9", image);
        Assert.AreEqual(1, unknown.Code);
        StringAssert.Contains(unknown.Error, "IMAGENET1K_V1, IMAGENET1K_V2");
        var noModel = CliRunner.Run("predict", "--weights", "DEFAULT", image);
        Assert.AreEqual(2, noModel.Code);
        StringAssert.Contains(noModel.Error, "--model");
        var both = CliRunner.Run("predict", "--checkpoint", "a.ckpt", "--model", "resnet50", "--weights", "DEFAULT", image);
        Assert.AreEqual(2, both.Code);
        StringAssert.Contains(both.Error, "not both");
    }

    [TestMethod]
    public void ModelsWeights_ListsAccuracyAndWhatIsCached()
    {
        var run = CliRunner.Run("models", "--weights");
        Assert.AreEqual(0, run.Code, run.Error);
        var lines = run.Output.Split('\n');
        string cached = lines.Single(l => l.StartsWith("mobilenet_v2", StringComparison.Ordinal) && l.Contains("IMAGENET1K_V2", StringComparison.Ordinal));
        StringAssert.Contains(cached, "72.15");
        StringAssert.Contains(cached, " yes ");
        string other = lines.Single(l => l.StartsWith("mobilenet_v2", StringComparison.Ordinal) && l.Contains("IMAGENET1K_V1", StringComparison.Ordinal));
        StringAssert.Contains(other, " no ");
        StringAssert.Contains(run.Output, Checkpoints);
        Assert.AreEqual(PretrainedBackbones.Catalog.Entries.Count, lines.Count(l => l.Contains("IMAGENET1K_", StringComparison.Ordinal)));
    }

    [TestMethod]
    [TestCategory("Slow")]   // fine-tunes MobileNetV2, then evaluates 1,000 images
    public void Finetune_FromAPublishedName_KeepsItsPreprocessing()
    {
        string runs = Path.Combine(folder, "runs");
        var run = CliRunner.Run("finetune", "--model", "mobilenet_v2", "--weights", "DEFAULT", "--data", "fashion-mnist",
                                "--train-per-class", "2", "--epochs", "1", "--unfreeze-epochs", "0", "--input-size", "32",
                                "--batch-size", "10", "--workers", "1", "--out", runs);
        Assert.AreEqual(0, run.Code, run.Error + run.Output);
        StringAssert.Contains(run.Output, "resize 33 (bilinear), centre crop 32");
        string checkpoint = Directory.GetFiles(runs, "final.ckpt", SearchOption.AllDirectories).Single();
        var info = Checkpoint.ReadInfo(checkpoint);
        // mobilenet_v2 DEFAULT is resize 232 / crop 224; at 32 pixels the resize scales along: round(32 * 232 / 224) = 33.
        Assert.AreEqual(new Preprocessing(33, 32, Preprocessing.ImageNetMean, Preprocessing.ImageNetStd), info.Preprocessing);
        Assert.AreEqual("mobilenet_v2", info.Model);

        var evaluated = CliRunner.Run("eval", "--checkpoint", checkpoint, "--data", "fashion-mnist");
        Assert.AreEqual(0, evaluated.Code, evaluated.Error);
        StringAssert.Contains(evaluated.Output, "1000 images");

        // The PyTorch file alone, with the model.json written beside it: no --model, and the same numbers as the checkpoint.
        string weights = Path.Combine(Path.GetDirectoryName(checkpoint)!, "model.pt");
        var sidecar = WeightsSidecar.Read(weights)!;
        Assert.AreEqual(info.Preprocessing, sidecar.Preprocessing);
        CollectionAssert.AreEqual(info.Classes.ToArray(), sidecar.Classes.ToArray());
        var fromFile = CliRunner.Run("eval", "--weights", weights, "--data", "fashion-mnist");
        Assert.AreEqual(0, fromFile.Code, fromFile.Error);
        static string Scores(string output) => output[output.IndexOf("1000 images", StringComparison.Ordinal)..].Split('\n')[0];
        Assert.AreEqual(Scores(evaluated.Output), Scores(fromFile.Output));
        var digits = CliRunner.Run("eval", "--weights", weights, "--data", "mnist");
        Assert.AreEqual(1, digits.Code, "model.json's class names are checked against the data's, as the checkpoint's are");
        StringAssert.Contains(digits.Error, "trained on [T-shirt/top");
    }
}
