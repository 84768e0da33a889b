using System.Globalization;
using static Cnn.Tests.Cli.CliRunner;

namespace Cnn.Tests.Cli;

/// <summary>
/// <c>eval</c> scores what the checkpoint held out, whatever seed or fraction it runs with: the split is recorded in
/// the checkpoint, not re-derived. Another folder is scored whole.
/// </summary>
[TestClass]
public sealed class EvalSplitTests
{
    [TestMethod]
    public void EvalScoresTheHeldOutImagesOfTheTrainingRunAndAnotherFolderWhole()
    {
        using var folder = new TempFolder("eval-split");
        string digits = folder.File("digits");
        Assert.AreEqual(0, Run("export-images", "--data", "mnist", "--per-class", "10", "--out", digits).Code);
        string images = Path.Combine(digits, "train");   // 100 images, 10 per class
        var train = Run("train", "--data", images, "--seed", "7", "--val-fraction", "0.3", "--epochs", "1",
                        "--input-size", "32", "--out", folder.File("runs"), "--workers", "1");
        Assert.AreEqual(0, train.Code, train.Output + train.Error);
        StringAssert.Contains(train.Output, "70 training, 30 held-out images");
        string run = Directory.GetDirectories(folder.File("runs")).Single();
        var metrics = File.ReadAllLines(Path.Combine(run, "metrics.csv"));
        double validated = double.Parse(metrics[1].Split(',')[Array.IndexOf(metrics[0].Split(','), "val_top1")], CultureInfo.InvariantCulture);

        // Defaults of eval: seed 42. Before the split was recorded, eval re-split with 0.2 and its own seed.
        var eval = Run("eval", "--checkpoint", Path.Combine(run, "last.ckpt"), "--data", images);
        Assert.AreEqual(0, eval.Code, eval.Output + eval.Error);
        StringAssert.Contains(eval.Output, "the 30% held out in training (split seed 7, from the checkpoint)");
        StringAssert.Contains(eval.Output, ": 30 images,");
        StringAssert.Contains(eval.Output, $"top-1 {100 * validated:F2}%", "the same images give the same accuracy as training's last validation");

        var other = Run("eval", "--checkpoint", Path.Combine(run, "last.ckpt"), "--data", Path.Combine(digits, "test"));
        Assert.AreEqual(0, other.Code, other.Output + other.Error);
        StringAssert.Contains(other.Output, "every image (not the folder the model trained on)");
        StringAssert.Contains(other.Output, ": 100 images,");
    }
}
