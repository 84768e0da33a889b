using System.CommandLine;
using Cnn.Training.Data;
using Cnn.Training.Reporting;
using Cnn.Training.Training;
using Cnn.Transfer;
using Cnn.Onnx.Import;
using Cnn.Transfer.Catalog;
using Cnn.Zoo;
using Cnn.Zoo.Models;
using TorchSharp;

namespace Cnn.Training.Cli;

/// <summary>
/// <c>cnnzoo finetune</c>: transfer learning as the course notes describe it: start from someone else's weights,
/// replace the head for your classes, train the head (or the last layers) with the body frozen, then optionally
/// unfreeze everything and train on at lower, layer-wise decreasing rates. Saves the result in the zoo's format and
/// PyTorch's.
/// </summary>
public static class FinetuneCommand
{
    sealed class Options
    {
        static readonly FinetuneRecipe Recipe = FinetuneRecipe.Default;

        public readonly Option<string> Weights = CliOptions.Text("--weights", "builtin",
            "builtin (resnet18_2223, ImageNet, offline), a published weights name of --model (IMAGENET1K_V2, DEFAULT; see 'models --weights'), or a .pt/.pth/.bin/.safetensors file",
            "builtin|name|file");
        public readonly Option<string?> Model = CliOptions.OptionalText("--model", "zoo model the weights belong to (default with builtin: resnet18_2223)", "name");
        public readonly Option<string> Data = SharedOptions.Data("fashion-mnist");
        public readonly Option<string> Freeze = CliOptions.Text("--freeze", Recipe.Freeze, "all-but-head, none, or N (the first N weight layers, numbered as in 'summary')", "all-but-head|none|N");
        public readonly Option<int> Epochs = CliOptions.Int("--epochs", Recipe.Epochs, "epochs with the body frozen", 1);
        public readonly Option<int> UnfreezeEpochs = CliOptions.Int("--unfreeze-epochs", Recipe.UnfreezeEpochs, "then epochs with everything trainable (0: skip)", 0);
        public readonly Option<string?> LearningRate = LearningRateOption.Create("learning rate of the head (Adam)", Recipe.LearningRate.ToString(System.Globalization.CultureInfo.InvariantCulture));
        public readonly Option<double> UnfrozenLearningRate = CliOptions.Double("--unfrozen-lr", Recipe.UnfrozenLearningRate, "head learning rate once unfrozen; earlier layer groups get halved rates", 0);
        public readonly Option<int> TrainPerClass = SharedOptions.TrainPerClass();
        public readonly Option<int?> InputSize = SharedOptions.InputSize(
            $"the crop size of published weights, whose resize is scaled along; {Recipe.FileInputSize} for a file");
        public readonly Option<int> BatchSize = SharedOptions.BatchSize(Recipe.BatchSize);
        public readonly Option<int> Workers = SharedOptions.Workers(Recipe.Workers);
        public readonly Option<bool> Augment = CliOptions.Flag("--augment", "random crops and flips while training");
        public readonly Option<string> FeatureCaching = CliOptions.OneOf("--feature-cache", "auto",
            "auto: while the body is frozen and nothing is augmented, compute its features once and train the head on them (same results, much faster); off: run the whole network every step",
            "auto", "off");
        public readonly Option<string> NormStatistics = CliOptions.OneOf("--bn-stats", Recipe.NormStatistics, "after unfreezing: keep the pretrained batch-norm statistics, or update them from your data", "keep", "update");
        public readonly Option<string> Out = SharedOptions.RunsFolder();
        public readonly RuntimeOptions Runtime = new();

        /// <summary>The options in the order <c>--help</c> lists them, then the runtime ones.</summary>
        public IEnumerable<Option> All =>
        [
            Weights, Model, Data, Freeze, Epochs, UnfreezeEpochs, LearningRate, UnfrozenLearningRate, TrainPerClass,
            InputSize, BatchSize, Workers, Augment, FeatureCaching, NormStatistics, Out, .. Runtime.All
        ];
    }

    public static Command Create(CliSession session)
    {
        var o = new Options();
        var command = new Command("finetune", "fine-tune pretrained weights (published by name, a PyTorch file, or the built-in backbone) on your images");
        foreach (var option in o.All) command.Add(option);
        command.SetAction(parse => Run(parse, o, session));
        return command;
    }

    static int Run(ParseResult parse, Options o, CliSession session)
    {
        string weights = parse.GetValue(o.Weights)!, data = parse.GetValue(o.Data)!, freeze = parse.GetValue(o.Freeze)!;
        string normStatistics = parse.GetValue(o.NormStatistics)!;
        int epochs = parse.GetValue(o.Epochs), unfreezeEpochs = parse.GetValue(o.UnfreezeEpochs), perClass = parse.GetValue(o.TrainPerClass);
        var (givenRate, autoRate) = LearningRateOption.Read(parse, o.LearningRate);
        var recipe = FinetuneRecipe.Default;
        double lr = givenRate ?? recipe.LearningRate, lowerLr = parse.GetValue(o.UnfrozenLearningRate);
        bool augment = parse.GetValue(o.Augment);
        string? modelName = parse.GetValue(o.Model);
        modelName ??= weights == "builtin" ? "resnet18_2223" : throw new UsageException("--model: name the zoo model the weights belong to (see 'models')");
        // builtin is the offline backbone's catalog entry, like any published name.
        string weightsName = weights == "builtin" ? WeightsCatalog.DefaultName : weights;
        int? frozenLayers = freeze switch
        {
            "all-but-head" or "none" => null,
            _ when int.TryParse(freeze, out int n) && n >= 0 => n,
            _ => throw new UsageException($"--freeze: expected all-but-head, none or a number of layers; found '{freeze}'"),
        };
        var (device, seed) = o.Runtime.Apply(parse);
        PretrainedBackbones.Catalog.Check(modelName, weightsName);
        if (!parse.WasGiven(o.Weights) && modelName != "resnet18_2223")
            Console.WriteLine($"--weights not given: {PretrainedBackbones.Catalog.Describe(modelName, weightsName)}");

        var (trainSet, testSet, source, split) = DataSources.LoadForTraining(data, recipe.HeldOut, seed, BadDataPolicy.Fail, perClass);
        int classes = trainSet.Classes.Count;
        var pretrained = ModelSourceOptions.LoadWeights(modelName, weightsName, classes);
        var model = pretrained.Model;
        Console.WriteLine(pretrained.Report);

        int frozen = freeze == "all-but-head" ? Freezing.FreezeAllButHead(model)
                   : frozenLayers is int n2 ? Freezing.FreezeFirst(model, n2) : 0;
        int batchSize = parse.GetValue(o.BatchSize), workers = parse.GetValue(o.Workers);
        int size;
        DataLoader trainLoader, testLoader;
        Preprocessing preprocessing;
        if (pretrained.Published)
        {
            // The weights' own preprocessing, at the size asked for: resize and crop scale together, mean/std stay.
            size = model.Input.RequireSide(parse.GetValue(o.InputSize) ?? pretrained.Preprocessing.CropSize, modelName);
            preprocessing = pretrained.Preprocessing.WithCropSize(size);
            (trainLoader, testLoader) = DataSetup.Loaders(trainSet, testSet, DataSetup.Pipeline(trainSet.Geometry, model.Input, preprocessing, augment),
                                                          batchSize, workers, seed);
            Console.WriteLine($"Preprocessing of the weights: {preprocessing}");
        }
        else
        {
            size = model.Input.RequireSide(parse.GetValue(o.InputSize) ?? recipe.FileInputSize, modelName);
            (trainLoader, testLoader, preprocessing) = DataSetup.Loaders(data, trainSet, testSet, model.Input, size, augment, batchSize, workers, seed);
        }
        var info = new CheckpointInfo
        {
            Model = pretrained.Entry.Architecture, ModelOptions = new Dictionary<string, string>(pretrained.Entry.Options),
            NumClasses = classes, Classes = trainSet.Classes, InputShape = [model.Input.Channels, size, size],
            Preprocessing = preprocessing, Split = split,
        };
        var run = RunFolder.Create(parse.GetValue(o.Out)!, modelName);
        session.RunFolder = run.Path;
        run.WriteCommand(session.Argv, new { weights, modelName, data, freeze, epochs, unfreezeEpochs, lr = autoRate ? (object)LearningRateOption.Auto : lr, lowerLr, perClass, size, normStatistics });
        Console.WriteLine($"Fine-tuning {modelName} from {pretrained.Entry} ({pretrained.Location}) on {source}: {trainSet.Count} training, {testSet.Count} held-out images, {classes} classes");
        Console.WriteLine($"Frozen: {frozen} parameter tensors ({freeze}); trainable parameters {Freezing.TrainableParameters(model).Sum(p => p.numel()):N0}");
        Console.WriteLine($"Run folder: {run.Path}");

        var config = new TrainConfig { Epochs = epochs, Optimizer = OptimizerKind.Adam, LearningRate = lr, Device = device.ToString() };
        var (stage1Train, stage1Test, head) = FrozenBodyStage(model, trainLoader, testLoader, augment, parse.GetValue(o.FeatureCaching) == "auto", device);
        if (autoRate)   // the range test trains what stage 1 trains, on the same batches (cached features when they are)
            config = config with
            {
                LearningRate = LearningRateOption.Find(head ?? model, [new ParameterGroup(Freezing.TrainableParameters(model).ToList(), 1.0)],
                                                       config, stage1Train, run),
            };
        var result = Interruptible.Run(cancel => new Trainer(model, config, stage1Train, stage1Test, run, info, forward: head).Fit(cancel));
        if (result.Reason == StopReason.Interrupted) return ExitCode.Interrupted;
        Console.WriteLine($"Stage 1 (frozen body): held-out top-1 {100 * result.LastValidation!.Top1:F2}%");
        var lastStage = config;
        IReadOnlyList<Dictionary<string, double>> allEpochs = run.Epochs;
        if (unfreezeEpochs > 0)
        {
            Freezing.Unfreeze(model);
            var groups = ParameterGroups.Discriminative(model, lowerLr, recipe.DecayPerGroup, recipe.Groups);
            var stage2 = new RunFolder(Path.Combine(run.Path, "unfrozen"));
            var config2 = lastStage = config with { Epochs = unfreezeEpochs, LearningRate = lowerLr };
            Action<TorchSharp.torch.nn.Module, bool> mode = normStatistics == "keep"
                ? Freezing.SetTrainingModeKeepingNormStatistics
                : Freezing.SetTrainingMode;
            result = Interruptible.Run(cancel => new Trainer(model, config2, trainLoader, testLoader, stage2, info, groups, mode).Fit(cancel));
            if (result.Reason == StopReason.Interrupted) return ExitCode.Interrupted;
            Console.WriteLine($"Stage 2 (all layers, discriminative rates): held-out top-1 {100 * result.LastValidation!.Top1:F2}%");
            // The curves show both stages, stage 2's epochs numbered on from stage 1's.
            allEpochs = [.. run.Epochs, .. stage2.Epochs.Select(row => new Dictionary<string, double>(row) { ["epoch"] = row["epoch"] + epochs })];
        }
        Weights.Save(model, run.File("model.pt"));
        Weights.Save(model, run.File("model.safetensors"));
        new WeightsSidecar(info.Model, info.ModelOptions, info.Classes, preprocessing, info.Split).Write(run.File("model.pt"));
        Checkpoint.Save(run.File("final.ckpt"), model, null, info with { Epoch = epochs + unfreezeEpochs, Training = lastStage });
        Reports.WriteFinal(run, model, info, result.LastValidation, trainLoader, result, testLoader, allEpochs);
        Console.WriteLine($"Saved {run.File("final.ckpt")} (cnnzoo eval/predict) and model.pt / model.safetensors (PyTorch load_state_dict, strict; model.json says what they are)");
        return ExitCode.Success;
    }

    /// <summary>The loaders (and the module batches go through) of the first stage: the body's features, computed
    /// once, when <see cref="FeatureCache.WhyNot"/> allows and <paramref name="caching"/> is on; the images otherwise.
    /// Says which, and why.</summary>
    static (DataLoader Train, DataLoader Test, torch.nn.Module<torch.Tensor, torch.Tensor>? Head) FrozenBodyStage(
        ZooModel model, DataLoader train, DataLoader test, bool augment, bool caching, torch.Device device)
    {
        string? why = caching ? FeatureCache.WhyNot(model, augment) : "--feature-cache off";
        if (why is null)
        {
            model.to(device);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            using var body = new InferencePass(model, device, featuresOnly: true);
            if (FeatureCache.Features(body, train, "training images") is { } trainFeatures
                && FeatureCache.Features(body, test, "held-out images") is { } testFeatures)
            {
                Console.WriteLine($"Stage 1: the frozen body's features of {train.Dataset.Count + test.Dataset.Count} images computed once by {trainFeatures.Engine} " +
                                  $"({clock.Elapsed.TotalSeconds:F1} s, {trainFeatures.Geometry.Channels}x{trainFeatures.Geometry.Height}x{trainFeatures.Geometry.Width} each); the head trains on them");
                var (cachedTrain, cachedTest) = FeatureCache.Loaders(trainFeatures, testFeatures, train, test);
                return (cachedTrain, cachedTest, new FeatureCache.Head(model));
            }
            why = $"the features would take more than {FeatureCache.MaxBytes >> 30} GB of memory";
        }
        Console.WriteLine($"Stage 1 runs the whole network every step: {why}");
        return (train, test, null);
    }
}
