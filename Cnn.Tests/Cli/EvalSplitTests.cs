using Cnn.Transfer;
using Cnn.Transfer.Catalog;
using System.Globalization;
using Cnn.Onnx;
using Cnn.Training.Data;
using Cnn.Training.Training;
using static Cnn.Tests.Cli.CliRunner;

namespace Cnn.Tests.Cli;

/// <summary>
/// One truth from checkpoint to every verb: <c>eval</c> scores what the checkpoint held out, whatever seed or fraction
/// it runs with (the split is recorded, not re-derived; another folder is scored whole), and the evaluation resize
/// training used is recorded and used by eval, export and explain.
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
        StringAssert.Contains(eval.Output, "the 30% held out in training (split seed 7, recorded with the model)");
        StringAssert.Contains(eval.Output, ": 30 images,");
        StringAssert.Contains(eval.Output, $"top-1 {100 * validated:F2}%", "the same images give the same accuracy as training's last validation");

        var other = Run("eval", "--checkpoint", Path.Combine(run, "last.ckpt"), "--data", Path.Combine(digits, "test"));
        Assert.AreEqual(0, other.Code, other.Output + other.Error);
        StringAssert.Contains(other.Output, "every image (not the folder the model trained on)");
        StringAssert.Contains(other.Output, ": 100 images,");
    }

    [TestMethod]
    public void FineTunedWeightsAloneAreEvaluatedOnTheirHeldOutImagesAsTheirCheckpointIs()
    {
        using var folder = new TempFolder("eval-split-weights");
        string digits = folder.File("digits");
        Assert.AreEqual(0, Run("export-images", "--data", "mnist", "--per-class", "10", "--out", digits).Code);
        string images = Path.Combine(digits, "train");   // 100 images, 10 per class; finetune holds out 20%
        using (var lenet = Cnn.Zoo.ModelRegistry.Create("lenet5", 10)) Weights.Save(lenet, folder.File("lenet5.pt"));
        var tuned = Run("finetune", "--model", "lenet5", "--weights", folder.File("lenet5.pt"), "--data", images, "--input-size", "32",
                        "--epochs", "1", "--unfreeze-epochs", "0", "--train-per-class", "5", "--seed", "3", "--workers", "1",
                        "--out", folder.File("runs"));
        Assert.AreEqual(0, tuned.Code, tuned.Output + tuned.Error);
        string run = Directory.GetDirectories(folder.File("runs")).Single();

        var fromCheckpoint = Run("eval", "--checkpoint", Path.Combine(run, "final.ckpt"), "--data", images);
        var fromWeights = Run("eval", "--weights", Path.Combine(run, "model.pt"), "--data", images);
        Assert.AreEqual(0, fromWeights.Code, fromWeights.Output + fromWeights.Error);
        StringAssert.Contains(fromWeights.Output, "the 20% held out in training (split seed 3");
        StringAssert.Contains(fromWeights.Output, ": 20 images,", "model.json records the split: the 80 training images are not scored");
        static string Scores(string output) => output[output.IndexOf(": 20 images,", StringComparison.Ordinal)..].Split('\n')[0];
        Assert.AreEqual(Scores(fromCheckpoint.Output), Scores(fromWeights.Output));
        Assert.AreEqual(5, WeightsSidecar.Read(Path.Combine(run, "model.pt"))!.Split!.TrainPerClass);
    }

    [TestMethod]
    public void TheRecordedSplitKeepsTheRunsFewTrainingImagesPerClass()
    {
        var (train, _, _, split) = DataSources.LoadForTraining("mnist", 0.2, 5, BadDataPolicy.Fail, perClass: 3);
        Assert.AreEqual(30, train.Count);
        var (again, heldOut, source) = DataSources.LoadAsRecorded(split, BadDataPolicy.Fail);
        CollectionAssert.AreEqual(Enumerable.Range(0, 30).Select(train.Describe).ToList(), Enumerable.Range(0, again.Count).Select(again.Describe).ToList(),
                                  "handoff --checkpoint lists the images the run trained on, not the whole training set");
        Assert.AreEqual(2000, heldOut.Count);
        StringAssert.Contains(source, "3 training images per class kept");
    }

    [TestMethod]
    public void TheEvaluatedImagesAreExactlyTheImagesTrainingHeldOut()
    {
        using var folder = new TempFolder("eval-disjoint");
        var (mnist, _) = Datasets.IdxFolder(Path.Combine(TestPaths.RepoRoot, "data", "mnist"));
        DatasetExport.ToImageFolder(mnist, folder.Path, perClass: 10);
        var (train, heldOut, _) = DataSources.Load(folder.Path, 0.3, 7, BadDataPolicy.Fail);
        var split = DataSplits.Of(folder.Path, 0.3, 7, train, heldOut);

        var (evaluated, _) = DataSources.LoadForEvaluation(folder.Path, split, BadDataPolicy.Fail);

        static HashSet<string> Files(IImageDataset data) => [.. Enumerable.Range(0, data.Count).Select(data.Describe)];
        var trainFiles = Files(train);
        var evaluatedFiles = Files(evaluated);
        Assert.AreEqual(0, trainFiles.Intersect(evaluatedFiles).Count(), "an evaluated image was a training image");
        Assert.IsTrue(Files(heldOut).SetEquals(evaluatedFiles), "eval scores what training held out");
        Assert.AreEqual(100, trainFiles.Count + evaluatedFiles.Count, "together they are the folder");
        Assert.AreEqual(30, evaluatedFiles.Count);

        // Images added after training would move the split: eval refuses rather than score training images.
        File.Copy(train.Describe(0), Path.Combine(Path.GetDirectoryName(train.Describe(0))!, "added.png"));
        var changed = Assert.ThrowsExactly<InvalidDataException>(() => DataSources.LoadForEvaluation(folder.Path, split, BadDataPolicy.Fail));
        StringAssert.Contains(changed.Message, "its images changed since the checkpoint was trained on it (100 samples");
        StringAssert.Contains(changed.Message, "now 101 samples");
    }

    [TestMethod]
    [TestCategory("Slow")]   // trains MobileNetV2 at 64 px, then evaluates, exports and explains
    public void AnAugmentedRunsEvaluationResizeIsRecordedAndEveryVerbUsesIt()
    {
        using var folder = new TempFolder("eval-resize");
        string digits = folder.File("digits");
        Assert.AreEqual(0, Run("export-images", "--data", "mnist", "--per-class", "6", "--out", digits).Code);
        string images = Path.Combine(digits, "train");
        var train = Run("train", "--model", "mobilenet_v2", "--data", images, "--input-size", "64", "--augment", "--epochs", "1",
                        "--out", folder.File("runs"), "--workers", "1");
        Assert.AreEqual(0, train.Code, train.Output + train.Error);
        string run = Directory.GetDirectories(folder.File("runs")).Single();
        string checkpoint = Path.Combine(run, "last.ckpt");
        Assert.AreEqual(73, Checkpoint.ReadInfo(checkpoint).EvalPreprocessing().ResizeSize, "validation during training resized 28 px digits to 64 / 0.875");

        var metrics = File.ReadAllLines(Path.Combine(run, "metrics.csv"));
        double loss = double.Parse(metrics[1].Split(',')[Array.IndexOf(metrics[0].Split(','), "val_loss")], CultureInfo.InvariantCulture);
        var eval = Run("eval", "--checkpoint", checkpoint, "--data", images);
        Assert.AreEqual(0, eval.Code, eval.Output + eval.Error);
        StringAssert.Contains(eval.Output, $"loss {loss:F4}", "eval sees the held-out images as training's validation did");

        string onnx = folder.File("model.onnx");
        Assert.AreEqual(0, Run("export", "--checkpoint", checkpoint, "--out", onnx).Code);
        using (var exported = OnnxRuntimeModel.Load(onnx))
            Assert.AreEqual("73", exported.Metadata[OnnxMetadataKeys.Resize]);

        using var ready = ReadyModel.FromCheckpoint(checkpoint, TorchSharp.torch.CPU);
        Assert.AreEqual(73, ready.Preprocessing.ResizeSize, "explain, predict and export read the same record");
    }
}
