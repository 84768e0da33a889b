using System.Globalization;
using Cnn.Tests.Support;
using Cnn.Training.Cli;
using static Cnn.Tests.Cli.CliRunner;

namespace Cnn.Tests.Cli;

/// <summary>Command-line misuse gets a message that says what is allowed; help, response files and flags behave.</summary>
[TestClass]
public sealed class CommandLineTests
{
    [TestMethod]
    public void UnknownVerbOptionModelAndBadValuesAreExplained()
    {
        var verb = Run("trian");
        Assert.AreEqual(2, verb.Code);
        StringAssert.Contains(verb.Error, "train, eval, predict");
        StringAssert.Contains(verb.Error, "Did you mean");
        var option = Run("train", "--epoch", "3");
        Assert.AreEqual(2, option.Code);
        StringAssert.Contains(option.Error, "--epochs");
        var value = Run("train", "--epochs", "many");
        Assert.AreEqual(2, value.Code);
        StringAssert.Contains(value.Error, "expected an integer >= 1; found 'many'");
        var model = Run("summary", "resnet51");
        Assert.AreEqual(2, model.Code);
        StringAssert.Contains(model.Error, "resnet50");
        var schedule = Run("train", "--schedule", "linear");
        StringAssert.Contains(schedule.Error, "onecycle");
        var data = Run("train", "--data", "/no/such/folder");
        Assert.AreEqual(2, data.Code);
        StringAssert.Contains(data.Error, "mnist, fashion-mnist or a folder");
        foreach (var run in new[] { verb, option, value, model, schedule, data }) AssertNoStackTrace(run.Error + run.Output);
    }

    [TestMethod]
    public void BadBnStatsSkipModelsLayoutAndFormatValuesAreExplained()
    {
        var stats = Run("finetune", "--bn-stats", "sometimes");
        Assert.AreEqual(2, stats.Code);
        StringAssert.Contains(stats.Error, "--bn-stats: expected keep or update; found 'sometimes'");
        var skip = Run("bench", "--skip", "inference");
        Assert.AreEqual(2, skip.Code);
        StringAssert.Contains(skip.Error, "--skip: expected training, loader or memory; found 'inference'");
        StringAssert.Contains(Run("bench", "--models", "resnet51").Error, "resnet18_cifar");
        StringAssert.Contains(Run("train", "--layout", "nhwc").Error, "auto, channelslast, nchw");
        StringAssert.Contains(Run("export-images", "--out", "x", "--format", "gif").Error, "png, jpeg");
    }

    [TestMethod]
    public void VerbsThatNeedACheckpointOrAModelSaySo()
    {
        var predict = Run("predict", "digit.png");
        Assert.AreEqual(2, predict.Code);
        StringAssert.Contains(predict.Error, "predict needs --checkpoint FILE");
        var missing = Run("eval", "--checkpoint", "/no/such/run/best.ckpt");
        Assert.AreEqual(1, missing.Code);
        StringAssert.Contains(missing.Error, "/no/such/run/best.ckpt");
        StringAssert.Contains(Run("finetune", "--weights", "resnet.pth").Error, "--model: name the zoo model");
        StringAssert.Contains(Run("finetune", "--weights", "/no/such.pth", "--model", "resnet18").Error, "/no/such.pth");
    }

    /// <summary>What each verb must offer, written from the README's tour (not read back from the implementation).</summary>
    static IEnumerable<object[]> VerbOptions =>
    [
        ["train", new[] { "--model", "--data", "--epochs", "--batch-size", "--optimizer", "--lr", "--schedule", "--augment", "--resume", "--layout", "--seed", "--device", "--threads", "--opt" }],
        ["eval", new[] { "--checkpoint", "--model", "--weights", "--data", "--batch-size", "--backend", "--device", "--precision" }],
        ["predict", new[] { "--checkpoint", "--model", "--weights", "--top", "--backend", "--device", "--precision" }],
        ["models", new[] { "--weights" }],
        ["summary", new[] { "--input", "--classes", "--opt" }],
        ["export-images", new[] { "--data", "--out", "--per-class", "--format" }],
        ["finetune", new[] { "--weights", "--model", "--data", "--freeze", "--epochs", "--unfreeze-epochs", "--bn-stats", "--augment", "--input-size" }],
        ["bench", new[] { "--models", "--batch", "--threads", "--skip", "--repeats", "--precision" }],
        ["export", new[] { "--checkpoint", "--model", "--weights", "--out", "--input-size" }],
        ["explain", new[] { "--checkpoint", "--model", "--weights", "--out", "--class", "--layer", "--device" }],
        ["handoff", new[] { "--checkpoint", "--model", "--weights", "--data", "--out", "--input-size", "--seed", "--train-per-class" }],
    ];

    [TestMethod]
    [DynamicData(nameof(VerbOptions))]
    public void HelpListsEveryOptionOfTheVerb(string verb, string[] expected)
    {
        var help = Run(verb, "--help");
        Assert.AreEqual(0, help.Code, help.Error);
        foreach (string option in expected) StringAssert.Contains(help.Output, option, $"'{verb} --help' lacks {option}");
        // System.CommandLine prints whatever options a verb has; what can be missing is a description saying what one does.
        var command = Commands.Root(new CliSession([])).Subcommands.Single(c => c.Name == verb);
        var undescribed = command.Options.Where(o => o.Name.StartsWith("--", StringComparison.Ordinal) && string.IsNullOrWhiteSpace(o.Description))
                                 .Select(o => o.Name).ToList();
        Assert.AreEqual(0, undescribed.Count, $"'{verb}' options without a description: {string.Join(", ", undescribed)}");
    }

    [TestMethod]
    public void EveryVerbHasHelpAndTheRootListsThemWithExitCodes()
    {
        var root = Run("--help");
        Assert.AreEqual(0, root.Code);
        foreach (string verb in Commands.Verbs) StringAssert.Contains(root.Output, verb);
        StringAssert.Contains(root.Output, "exit codes");
        Assert.AreEqual(VerbOptions.Count(), Commands.Verbs.Count, "a verb without a row in VerbOptions");
    }

    [TestMethod]
    public void AFlagDoesNotSwallowTheWordAfterIt()
    {
        // The old parser read '--augment mnist' as --augment=mnist (false). A flag takes no value: 'mnist' is an error.
        var flag = Run("train", "--augment", "mnist");
        Assert.AreEqual(2, flag.Code);
        StringAssert.Contains(flag.Error, "'mnist'");
        // An unknown option before an image is not taken for an image file.
        var predict = Run("predict", "--checkpoint", "x.ckpt", "--topp", "3", "a.png");
        Assert.AreEqual(2, predict.Code);
        StringAssert.Contains(predict.Error, "--topp");
        StringAssert.Contains(predict.Error, "--top");
    }

    [TestMethod]
    public void ResponseFilesAreExpanded()
    {
        using var folderTemp = new TempFolder("rsp");
        string folder = folderTemp.Path;
        string file = Path.Combine(folder, "args.rsp");
        File.WriteAllLines(file, ["--epochs", "many"]);
        var run = Run("train", "@" + file);
        Assert.AreEqual(2, run.Code);
        StringAssert.Contains(run.Error, "--epochs: expected an integer >= 1; found 'many'");
    }

    [TestMethod]
    public void ModelsListsTheZooFromTheTableWithoutBuildingModels()
    {
        var models = Run("models");
        Assert.AreEqual(0, models.Code, models.Error);
        StringAssert.Contains(models.Output, "25,557,032"); // resnet50, torchvision's published parameter count
        StringAssert.Contains(models.Output, "61,706");     // LeNet-5 of the course notes
        Assert.AreEqual(Cnn.Zoo.ModelRegistry.All.Count + 2, models.Output.Trim().Split('\n').Length);
    }

    [TestMethod]
    public void TrainThenEvalAndPredictFromTheCheckpoint()
    {
        using var rootTemp = new TempFolder("cli-train");
        string root = rootTemp.Path;
        var train = Run("train", "--epochs", "1", "--train-per-class", "30", "--out", root, "--workers", "1");
        Assert.AreEqual(0, train.Code, train.Output + train.Error);
        string run = Directory.GetDirectories(root).Single();
        string checkpoint = Path.Combine(run, "last.ckpt");
        var metrics = File.ReadAllLines(Path.Combine(run, "metrics.csv"));
        int column = Array.IndexOf(metrics[0].Split(','), "val_top1");
        double validated = double.Parse(metrics[1].Split(',')[column], CultureInfo.InvariantCulture);

        // eval runs the inference-optimised model (BN folding, channels-last): the same held-out set gives the same top-1.
        var eval = Run("eval", "--checkpoint", checkpoint, "--data", "mnist");
        Assert.AreEqual(0, eval.Code, eval.Output + eval.Error);
        StringAssert.Contains(eval.Output, "2000 images");
        StringAssert.Contains(eval.Output, $"top-1 {100 * validated:F2}%");
        StringAssert.Contains(eval.Output, "Precision: fp32 (fp32 as requested)", "fp32 by default, and said");
        var auto = Run("eval", "--checkpoint", checkpoint, "--data", "mnist", "--precision", "auto");
        Assert.AreEqual(0, auto.Code, auto.Output + auto.Error);
        StringAssert.Contains(auto.Output, "Precision: fp32 (auto: fp32, because ", "auto says why it kept fp32 (LeNet-5's digits are small)");

        // eval refuses data whose classes are not the checkpoint's.
        var wrong = Run("eval", "--checkpoint", checkpoint, "--data", "fashion-mnist");
        Assert.AreEqual(1, wrong.Code);
        StringAssert.Contains(wrong.Error, "T-shirt");
        StringAssert.Contains(wrong.Error, checkpoint);

        string images = Path.Combine(root, "images");
        Assert.AreEqual(0, Run("export-images", "--data", "mnist", "--per-class", "1", "--out", images, "--format", "jpeg").Code);
        string seven = Directory.GetFiles(Path.Combine(images, "test", "7")).Single();
        StringAssert.EndsWith(seven, ".jpg");
        var predict = Run("predict", "--checkpoint", checkpoint, "--top", "3", seven);
        Assert.AreEqual(0, predict.Code, predict.Output + predict.Error);
        var lines = predict.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        StringAssert.StartsWith(lines[0], "Precision: ");
        Assert.AreEqual(seven, lines[1].Trim());
        var percents = lines.Skip(2).Select(l => double.Parse(l.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1].TrimEnd('%'),
                                                              CultureInfo.InvariantCulture)).ToList();
        Assert.AreEqual(3, percents.Count, predict.Output);
        Assert.IsTrue(percents.Zip(percents.Skip(1)).All(p => p.First >= p.Second), "top-k is sorted: " + predict.Output);
        Assert.IsTrue(percents.Sum() <= 100.01 && percents[0] > 10, "probabilities in percent: " + predict.Output);
    }

    [TestMethod]
    public void SummaryVerbPrintsTheTableWithTotals()
    {
        var summary = Run("summary", "lenet5", "--classes", "10");
        Assert.AreEqual(0, summary.Code, summary.Error);
        StringAssert.Contains(summary.Output, "61,706");
        StringAssert.Contains(summary.Output, "classifier.4");
    }
}
