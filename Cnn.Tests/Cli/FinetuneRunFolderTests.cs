using System.Globalization;
using System.Text.Json;
using Cnn.Transfer;
using static Cnn.Tests.Cli.CliRunner;

namespace Cnn.Tests.Cli;

/// <summary>What a two-stage fine-tune leaves in its run folder.</summary>
[TestClass]
public sealed class FinetuneRunFolderTests
{
    [TestMethod]
    public void TheSummaryAndTheCurvesShowBothStagesNumberedOn()
    {
        using var folder = new TempFolder("finetune-run-folder");
        using (var lenet = Cnn.Zoo.ModelRegistry.Create("lenet5", 10)) Weights.Save(lenet, folder.File("lenet5.pt"));
        var tuned = Run("finetune", "--model", "lenet5", "--weights", folder.File("lenet5.pt"), "--data", "mnist", "--input-size", "32",
                        "--epochs", "2", "--unfreeze-epochs", "1", "--train-per-class", "5", "--workers", "1", "--out", folder.File("runs"));
        Assert.AreEqual(0, tuned.Code, tuned.Output + tuned.Error);
        string run = Directory.GetDirectories(folder.File("runs")).Single();

        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "summary.json")));
        var epochs = summary.RootElement.GetProperty("Epochs").EnumerateArray().Select(e => e.GetProperty("epoch").GetDouble()).ToList();
        CollectionAssert.AreEqual(new[] { 1.0, 2.0, 3.0 }, epochs, "stage 1's two epochs, then stage 2's one as epoch 3");
        int Rows(string csv) => File.ReadAllLines(csv).Length - 1;
        Assert.AreEqual(2, Rows(Path.Combine(run, "metrics.csv")), "each stage keeps its own metrics.csv");
        Assert.AreEqual(1, Rows(Path.Combine(run, "unfrozen", "metrics.csv")));
        double lastTop1 = summary.RootElement.GetProperty("Epochs")[2].GetProperty("val_top1").GetDouble();
        StringAssert.Contains(tuned.Output, $"Stage 2 (all layers, discriminative rates): held-out top-1 {(100 * lastTop1).ToString("F2", CultureInfo.InvariantCulture)}%");
        Assert.IsTrue(File.Exists(Path.Combine(run, "accuracy.png")));
    }
}
