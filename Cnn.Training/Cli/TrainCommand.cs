using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text.Json;
using Cnn.Training.Data;
using Cnn.Training.Reporting;
using Cnn.Training.Training;
using Cnn.Transfer;
using Cnn.Zoo;
using Cnn.Zoo.Analysis;
using Cnn.Zoo.IO;
using Cnn.Zoo.Inference;
using Cnn.Zoo.Models;

namespace Cnn.Training.Cli;

/// <summary><c>cnnzoo train</c>: train a model from scratch on a data set; <c>--resume</c> continues an interrupted run.</summary>
public static class TrainCommand
{
    /// <summary>The arguments of a run, saved in its folder so <c>--resume</c> rebuilds exactly the same run.</summary>
    public const string SavedArguments = "command.json";

    /// <summary>Options that only change how fast a run goes, not its result: a resumed run may change them.</summary>
    static readonly string[] RuntimeOnly = ["--resume", "--threads", "--workers", "--device"];

    sealed class Options
    {
        public readonly Option<string> Model = CliOptions.Text("--model", "lenet5", "model name (see 'models')", "name");
        public readonly Option<string> Data = SharedOptions.Data("mnist");
        public readonly Option<int?> Epochs = CliOptions.OptionalInt("--epochs", "epochs (default: the model's recipe; lenet5 15, others 10)", 1);
        public readonly Option<OptimizerKind?> Optimizer = CliOptions.OptionalChoice<OptimizerKind>("--optimizer", "optimizer (default: the model's recipe)");
        public readonly Option<string?> LearningRate = LearningRateOption.Create("base (peak for one-cycle) learning rate (default: the model's recipe)");
        public readonly Option<double?> WeightDecay = CliOptions.OptionalDouble("--weight-decay", "weight decay (default: the model's recipe)", 0);
        public readonly Option<double> Momentum = CliOptions.Double("--momentum", 0.9, "SGD momentum", 0);
        public readonly Option<bool> Nesterov = CliOptions.Flag("--nesterov", "Nesterov momentum for SGD");
        public readonly Option<ScheduleKind?> Schedule = CliOptions.OptionalChoice<ScheduleKind>("--schedule", "learning-rate schedule (default: the model's recipe)");
        public readonly Option<int> WarmupEpochs = CliOptions.Int("--warmup-epochs", 0, "linear warm-up epochs (not with one-cycle)", 0);
        public readonly Option<int> StepEpochs = CliOptions.Int("--step-epochs", 30, "epochs between decays of the step schedule", 1);
        public readonly Option<double> Gamma = CliOptions.Double("--gamma", 0.1, "decay factor of the step schedule", 0);
        public readonly Option<double> LabelSmoothing = CliOptions.Double("--label-smoothing", 0, "label smoothing (0..1)", 0);
        public readonly Option<double?> ClipGrad = CliOptions.OptionalDouble("--clip-grad", "clip the gradient norm to this value");
        public readonly Option<int?> Patience = CliOptions.OptionalInt("--patience", "early stopping patience in epochs", 1);
        public readonly Option<string> Monitor = CliOptions.OneOf("--monitor", "val_top1", "metric for best checkpoint and early stopping", "val_top1", "val_loss");
        public readonly Option<MemoryLayout> Layout = CliOptions.Choice("--layout", MemoryLayout.Auto, "memory layout of batches (auto: channels-last from 64x64 up)");
        public readonly Option<int?> BatchSize = SharedOptions.BatchSize("the model's recipe");
        public readonly Option<int> Workers = SharedOptions.Workers(2);
        public readonly Option<int?> InputSize = SharedOptions.InputSize("the model's");
        public readonly Option<bool> Augment = CliOptions.Flag("--augment", "random crops (and flips for colour images) while training");
        public readonly Option<double> ValFraction = CliOptions.Double("--val-fraction", 0.2, "share of an image folder held out for validation", 0);
        public readonly Option<int> TrainPerClass = SharedOptions.TrainPerClass();
        public readonly Option<BadDataPolicy> BadData = CliOptions.Choice("--bad-data", BadDataPolicy.Fail, "what to do with unreadable images");
        public readonly Option<string[]> ModelOptions = CliOptions.Repeatable("--opt", "model option key=value, e.g. --opt width=0.5", "key=value");
        public readonly Option<string> Out = SharedOptions.RunsFolder();
        public readonly Option<string?> Resume = CliOptions.OptionalText("--resume", "continue from a last.ckpt with the options of its run (only --threads, --workers and --device may change)", "last.ckpt");
        public readonly RuntimeOptions Runtime = new();

        /// <summary>The options in the order <c>--help</c> lists them, then the runtime ones.</summary>
        public IEnumerable<Option> All =>
        [
            Model, Data, Epochs, Optimizer, LearningRate, WeightDecay, Momentum, Nesterov, Schedule, WarmupEpochs,
            StepEpochs, Gamma, LabelSmoothing, ClipGrad, Patience, Monitor, Layout, BatchSize, Workers, InputSize,
            Augment, ValFraction, TrainPerClass, BadData, ModelOptions, Out, Resume, .. Runtime.All
        ];
    }

    public static Command Create(CliSession session) => Build(session).Command;

    static (Command Command, Options Options) Build(CliSession session)
    {
        var o = new Options();
        var command = new Command("train", "train a model (default: LeNet-5 on the shipped MNIST)");
        foreach (var option in o.All) command.Add(option);
        command.SetAction(parse => Run(parse, o, session));
        return (command, o);
    }

    static int Run(ParseResult parse, Options o, CliSession session)
    {
        string? resume = parse.GetValue(o.Resume);
        if (resume is null) return Train(parse, o, session, resume: null);

        if (!File.Exists(resume)) throw new FileNotFoundException($"--resume: {resume} not found (expected the last.ckpt of an interrupted run)", resume);
        string saved = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(resume))!, SavedArguments);
        if (!File.Exists(saved))
            throw new UsageException($"--resume: {saved} not found beside the checkpoint; --resume needs the run folder train wrote");
        var arguments = JsonSerializer.Deserialize<string[]>(File.ReadAllText(saved)) ?? [];
        // The saved arguments are parsed by a fresh train command: the run continues with exactly its own options,
        // and the runtime-only options given now (threads, workers, device) are appended so they win.
        var (again, savedOptions) = Build(session);
        var savedParse = again.Parse(arguments);
        if (savedParse.Errors.Count > 0)
            throw new UsageException($"--resume: the saved arguments in {saved} no longer parse: {savedParse.Errors[0].Message}");
        RefuseContradictions(parse, savedParse);
        var runtime = parse.CommandResult.Command.Options
            .Where(option => RuntimeOnly.Contains(option.Name) && option.Name != "--resume" && parse.WasGiven(option))
            .SelectMany(option => parse.GetResult(option)!.Tokens.Select(t => t.Value).Prepend(option.Name));
        var merged = again.Parse([.. arguments, .. runtime]);
        if (merged.Errors.Count > 0) throw new UsageException(merged.Errors[0].Message);
        return Train(merged, savedOptions, session, resume);
    }

    /// <summary>An option given with --resume that differs from the run's own is refused, not silently ignored.</summary>
    static void RefuseContradictions(ParseResult now, ParseResult saved)
    {
        foreach (var option in now.CommandResult.Command.Options)
        {
            if (RuntimeOnly.Contains(option.Name) || !now.WasGiven(option)) continue;
            string given = Tokens(now, option);
            var savedOption = saved.CommandResult.Command.Options.First(x => x.Name == option.Name);
            string before = saved.WasGiven(savedOption) ? Tokens(saved, savedOption) : "(its default)";
            if (given != before)
                throw new UsageException($"{option.Name} {given} contradicts the run being resumed, which used {option.Name} {before}. " +
                                         "--resume continues a run with its own options (only --threads, --workers and --device may change); start a new run to change others");
        }
    }

    static string Tokens(ParseResult parse, Option option)
    {
        var result = parse.GetResult(option)!;
        return result.Tokens.Count == 0 ? "(flag)" : string.Join(' ', result.Tokens.Select(t => t.Value));
    }

    static int Train(ParseResult parse, Options o, CliSession session, string? resume)
    {
        string modelName = parse.GetValue(o.Model)!;
        var recipe = Recipe.For(modelName);
        string data = parse.GetValue(o.Data)!;
        var (givenRate, autoRate) = LearningRateOption.Read(parse, o.LearningRate);
        var config = new TrainConfig
        {
            Epochs = parse.GetValue(o.Epochs) ?? recipe.Epochs,
            Optimizer = parse.GetValue(o.Optimizer) ?? recipe.Optimizer,
            LearningRate = givenRate ?? recipe.LearningRate,
            WeightDecay = parse.GetValue(o.WeightDecay) ?? recipe.WeightDecay,
            Momentum = parse.GetValue(o.Momentum),
            Nesterov = parse.GetValue(o.Nesterov),
            Schedule = parse.GetValue(o.Schedule) ?? recipe.Schedule,
            WarmupEpochs = parse.GetValue(o.WarmupEpochs),
            StepEpochs = parse.GetValue(o.StepEpochs),
            Gamma = parse.GetValue(o.Gamma),
            LabelSmoothing = parse.GetValue(o.LabelSmoothing),
            ClipGradNorm = parse.GetValue(o.ClipGrad),
            Patience = parse.GetValue(o.Patience),
            Monitor = parse.GetValue(o.Monitor)!,
            Layout = parse.GetValue(o.Layout),
        };
        int batchSize = parse.GetValue(o.BatchSize) ?? recipe.BatchSize;
        int workers = parse.GetValue(o.Workers);
        var userOptions = parse.GetValue(o.ModelOptions)!;
        var (device, seed) = o.Runtime.Apply(parse);
        config = config with { Device = device.ToString() };

        var (trainSet, testSet, source, split) = DataSources.LoadForTraining(data, parse.GetValue(o.ValFraction), seed, parse.GetValue(o.BadData),
                                                                           parse.GetValue(o.TrainPerClass));
        var options = ModelOptions.Parse(recipe.ModelOptions.Where(r => !userOptions.Any(u => Key(u) == Key(r))).Concat(userOptions));
        var model = ModelRegistry.Create(modelName, trainSet.Classes.Count, options);
        int size = model.Input.RequireSide(parse.GetValue(o.InputSize) ?? recipe.InputSize ?? model.Input.Height, modelName);
        var (trainLoader, testLoader, preprocessing) = DataSetup.Loaders(data, trainSet, testSet, model.Input, size, parse.GetValue(o.Augment), batchSize, workers, seed);

        var run = resume is null ? RunFolder.Create(parse.GetValue(o.Out)!, modelName) : new RunFolder(Path.GetDirectoryName(Path.GetFullPath(resume))!);
        session.RunFolder = run.Path;
        if (resume is null)
        {
            run.WriteCommand(session.Argv, config);
            AtomicFile.WriteAllText(run.File(SavedArguments), JsonSerializer.Serialize(VerbArguments(parse)));
        }
        if (autoRate)
            config = config with
            {
                LearningRate = LearningRateOption.Find(model, [new ParameterGroup(model.parameters().ToList(), 1.0)],
                                                       config, trainLoader, run),
            };
        var summary = ModelSummary.Of(model, [model.Input.Channels, size, size]);
        Console.WriteLine($"Model {modelName}: {summary.TotalParameters:N0} parameters, {summary.TotalMacs / 1e6:N1} M MACs per {size}x{size} image, {summary.WeightLayerCount} weight layers");
        Console.WriteLine($"Data: {source}: {trainSet.Count} training, {testSet.Count} held-out images, {trainSet.Classes.Count} classes");
        Console.WriteLine($"Training {config.Epochs} epochs, batch {batchSize}, {config.Optimizer} lr {config.LearningRate} ({config.Schedule}), seed {seed}, device {device}");
        Console.WriteLine($"Run folder: {run.Path}");

        var info = new CheckpointInfo
        {
            Model = modelName, NumClasses = trainSet.Classes.Count, Classes = trainSet.Classes,
            ModelOptions = options.ToDictionary(), InputShape = [model.Input.Channels, size, size], Preprocessing = preprocessing, Split = split,
        };
        var result = Interruptible.Run(cancel => new Trainer(model, config, trainLoader, testLoader, run, info).Fit(cancel, resume));
        if (result.Reason == StopReason.Interrupted) return ExitCode.Interrupted;

        var final = result.LastValidation;
        Reports.WriteFinal(run, model, info, final, trainLoader, result, testLoader);
        Console.WriteLine($"Done ({result.Reason}). Final held-out top-1 {100 * (final?.Top1 ?? double.NaN):F2}%, best {100 * result.BestMetric:F2}% ({config.Monitor}).");
        Console.WriteLine($"Checkpoints: {run.LastCheckpoint} (last), {run.BestCheckpoint} (best)");
        Console.WriteLine($"Metrics: {run.MetricsCsv}; pictures and summary.json in {run.Path}");
        return ExitCode.Success;
    }

    static string Key(string option) => option.Split('=')[0].Trim().ToLowerInvariant();

    /// <summary>The arguments after the verb, response files expanded, as a resumed run re-parses them.</summary>
    static string[] VerbArguments(ParseResult parse)
        => [.. parse.Tokens.Where(t => t.Type is not (TokenType.Command or TokenType.Directive)).Select(t => t.Value)];
}
