using System.Globalization;
using Cnn.Training.Data;
using Cnn.Training.Reporting;
using Cnn.Training.Training;
using Cnn.Zoo;
using Cnn.Zoo.Analysis;
using Cnn.Zoo.IO;
using Cnn.Zoo.Inference;
using Cnn.Zoo.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Training.Cli;

/// <summary>The verbs of the command line. Each reads its options, prints help with --help, and reports misuse clearly.</summary>
public static partial class Commands
{
    static readonly (string Verb, string Help, Func<Args, int> Run)[] Verbs =
    [
        ("train", "train a model (default: LeNet-5 on the shipped MNIST)", Train),
        ("eval", "evaluate a checkpoint on a data set: loss, top-1, top-5, confusion matrix", Eval),
        ("predict", "top-k classes with probabilities for image files", Predict),
        ("models", "list the zoo with parameters and multiply-accumulates", Models),
        ("summary", "per-layer table of a model: shapes, parameters, MACs, weight-layer numbers", Summary),
        ("export-images", "write an IDX data set (e.g. the shipped Fashion-MNIST) as an image folder of PNG or JPEG files", ExportImages),
        ("finetune", "fine-tune pretrained weights (a PyTorch file or the built-in backbone) on your images", Finetune),
        ("bench", "images/s of zoo models vs TorchSharp's TorchVision port, FLOP/s vs matmul, loader speed, memory", Bench),
    ];

    public static int Run(string[] argv)
    {
        string verb = argv.Length > 0 && !argv[0].StartsWith("--", StringComparison.Ordinal) ? argv[0] : "train";
        var rest = argv.Length > 0 && !argv[0].StartsWith("--", StringComparison.Ordinal) ? argv[1..] : argv;
        if (verb is "help" or "-h")
        {
            PrintVerbs();
            return 0;
        }
        var entry = Verbs.FirstOrDefault(v => v.Verb == verb);
        if (entry.Run is null)
        {
            Console.Error.WriteLine($"unknown verb '{verb}'. Verbs: {string.Join(", ", Verbs.Select(v => v.Verb))}");
            return 2;
        }
        try
        {
            return entry.Run(new Args(verb, rest));
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"error: {e.Message}\n(run 'cnnzoo {verb} --help' for the options)");
            return 2;
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or FileNotFoundException
                                      or DirectoryNotFoundException or TrainingDivergedException or InvalidOperationException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }

    static void PrintVerbs()
    {
        Console.WriteLine("usage: cnnzoo <verb> [options]   (dotnet run --project Cnn.Training -c Release -- <verb> ...)\n\nverbs:");
        foreach (var (verb, help, _) in Verbs) Console.WriteLine($"  {verb,-14} {help}");
        Console.WriteLine("\n'cnnzoo <verb> --help' lists a verb's options.");
    }

    /// <summary>Options shared by every verb that runs a model.</summary>
    static (Device Device, int Seed) Runtime(Args a)
    {
        string device = a.String("device", "cpu", "cpu, cuda or cuda:N (CUDA needs a CUDA build of TorchSharp)")!;
        int threads = a.Int("threads", 0, "CPU threads for libtorch (0: libtorch's default)", 0);
        int seed = a.Int("seed", 42, "random seed: the same seed gives the same run on the same machine");
        if (threads > 0) torch.set_num_threads(threads);
        torch.manual_seed(seed);
        try
        {
            return (torch.device(device), seed);
        }
        catch (Exception e) when (e is not UsageException)
        {
            throw new UsageException($"--device: expected cpu, cuda or cuda:N; '{device}' is not available here ({e.Message})");
        }
    }

    static int Train(Args a)
    {
        string? resume = a.String("resume", null, "continue from a last.ckpt (other options are taken from its run)");
        if (resume is not null && !a.Help)
        {
            string options = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(resume))!, "command.json");
            if (!File.Exists(options)) throw new UsageException($"--resume: {options} not found beside the checkpoint");
            var saved = System.Text.Json.JsonSerializer.Deserialize<string[]>(File.ReadAllText(options)) ?? [];
            var again = new Args("train", [.. saved, "--resume", resume]);
            return TrainWith(again, resume);
        }
        return TrainWith(a, null);
    }

    static int TrainWith(Args a, string? resume)
    {
        string modelName = a.String("model", "lenet5", "model name (see 'models')")!;
        var recipe = Recipe.For(modelName);
        string data = a.String("data", "mnist", "mnist, fashion-mnist, or a folder (IDX, CIFAR-10 batches, or one sub-folder per class)")!;
        var config = new TrainConfig
        {
            Epochs = a.Int("epochs", recipe.Epochs, "epochs", 1),
            Optimizer = a.Enum("optimizer", recipe.Optimizer, "optimizer"),
            LearningRate = a.Double("lr", recipe.LearningRate, "base (peak for one-cycle) learning rate", 0),
            WeightDecay = a.Double("weight-decay", recipe.WeightDecay, "weight decay", 0),
            Momentum = a.Double("momentum", 0.9, "SGD momentum", 0),
            Nesterov = a.Flag("nesterov", "Nesterov momentum for SGD"),
            Schedule = a.Enum("schedule", recipe.Schedule, "learning-rate schedule"),
            WarmupEpochs = a.Int("warmup-epochs", 0, "linear warm-up epochs (not with one-cycle)", 0),
            StepEpochs = a.Int("step-epochs", 30, "epochs between decays of the step schedule", 1),
            Gamma = a.Double("gamma", 0.1, "decay factor of the step schedule", 0),
            LabelSmoothing = a.Double("label-smoothing", 0, "label smoothing (0..1)", 0),
            ClipGradNorm = a.OptionalDouble("clip-grad", "clip the gradient norm to this value"),
            Patience = a.Has("patience") ? a.Int("patience", 0, "early stopping patience in epochs", 1) : DeclareNull(a, "patience", "early stopping patience in epochs"),
            Monitor = a.String("monitor", "val_top1", "metric for best checkpoint and early stopping: val_top1 or val_loss")!,
            Layout = a.Enum("layout", MemoryLayout.Auto, "memory layout of batches (auto: channels-last from 64x64 up)"),
        };
        if (config.Monitor is not ("val_top1" or "val_loss"))
            throw new UsageException($"--monitor: expected val_top1 or val_loss; found '{config.Monitor}'");
        int batchSize = a.Int("batch-size", recipe.BatchSize, "batch size", 1);
        int workers = a.Int("workers", 2, "data-loading threads", 1);
        int? inputSize = a.Has("input-size") ? a.Int("input-size", 0, "square input side (default: the model's)", 8) : DeclareNull(a, "input-size", "square input side (default: the model's)");
        bool augment = a.Flag("augment", "random crops (and flips for colour images) while training");
        double validation = a.Double("val-fraction", 0.2, "share of an image folder held out for validation", 0);
        int perClass = a.Int("train-per-class", 0, "use only this many training images per class (0: all)", 0);
        var badData = a.Enum("bad-data", BadDataPolicy.Fail, "what to do with unreadable images");
        var userOptions = a.All("opt", "model option key=value, e.g. --opt width=0.5");
        string runs = a.String("out", "runs", "folder that receives the run folder")!;
        var (device, seed) = Runtime(a);
        if (a.Help) { Console.WriteLine(a.Usage("train [options]")); return 0; }
        a.EnsureNoUnknown();
        config = config with { Device = device.ToString() };

        var (trainSet, testSet, source) = DataSetup.Load(data, validation, seed, badData);
        if (perClass > 0) trainSet = Datasets.Subset(trainSet, perClass, seed);
        var options = ModelOptions.Parse(recipe.ModelOptions.Where(o => !userOptions.Any(u => Key(u) == Key(o))).Concat(userOptions));
        var model = ModelRegistry.Create(modelName, trainSet.Classes.Count, options);
        int size = inputSize ?? recipe.InputSize ?? model.Input.Height;
        var (trainLoader, testLoader, mean, std) = Loaders(data, trainSet, testSet, model, size, augment, batchSize, workers, seed);

        var run = resume is null ? RunFolder.Create(runs, modelName) : new RunFolder(Path.GetDirectoryName(Path.GetFullPath(resume))!);
        if (resume is null)
        {
            var argv = Environment.GetCommandLineArgs().Skip(1).ToArray();
            run.WriteCommand(argv, config);
            AtomicFile.WriteAllText(run.File("command.json"), System.Text.Json.JsonSerializer.Serialize(OriginalArgs()));
        }
        var summary = ModelSummary.Of(model, [model.Input.Channels, size, size]);
        Console.WriteLine($"Model {modelName}: {summary.TotalParameters:N0} parameters, {summary.TotalMacs / 1e6:N1} M MACs per {size}x{size} image, {summary.WeightLayerCount} weight layers");
        Console.WriteLine($"Data: {source}: {trainSet.Count} training, {testSet.Count} held-out images, {trainSet.Classes.Count} classes");
        Console.WriteLine($"Training {config.Epochs} epochs, batch {batchSize}, {config.Optimizer} lr {config.LearningRate} ({config.Schedule}), seed {seed}, device {device}");
        Console.WriteLine($"Run folder: {run.Path}");

        var info = new CheckpointInfo
        {
            Model = modelName, NumClasses = trainSet.Classes.Count, Classes = trainSet.Classes,
            ModelOptions = options.ToDictionary(), InputShape = [model.Input.Channels, size, size], Mean = mean, Std = std,
        };
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            Console.WriteLine("\nCtrl+C: finishing the current step and saving a checkpoint (press again to abort)");
            if (cancel.IsCancellationRequested) Environment.Exit(130);
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        TrainResult result;
        try
        {
            var trainer = new Trainer(model, config, trainLoader, testLoader, run, info);
            result = trainer.Fit(cancel.Token, resume);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
        if (result.Reason == StopReason.Interrupted) return 130;

        var final = result.LastValidation;
        Reports.WriteFinal(run, model, info, final, trainLoader, result);
        Console.WriteLine($"Done ({result.Reason}). Final held-out top-1 {100 * (final?.Top1 ?? double.NaN):F2}%, best {100 * result.BestMetric:F2}% ({config.Monitor}).");
        Console.WriteLine($"Checkpoints: {run.LastCheckpoint} (last), {run.BestCheckpoint} (best)");
        Console.WriteLine($"Metrics: {run.MetricsCsv}; pictures and summary.json in {run.Path}");
        return 0;
    }

    /// <summary>Loaders that fit the data to the model: the shared pipeline of train and finetune.</summary>
    static (DataLoader Train, DataLoader Test, float[] Mean, float[] Std) Loaders(
        string data, IImageDataset trainSet, IImageDataset testSet, ZooModel model, int size, bool augment, int batchSize,
        int workers, int seed)
    {
        var (mean, std) = DataSetup.Normalisation(data, model.Input.Channels);
        var (trainTransform, evalTransform) = DataSetup.Pipeline(trainSet.Load(0), model.Input, size, mean, std, augment);
        return (new DataLoader(trainSet, trainTransform, batchSize, shuffle: true, seed, workers),
                new DataLoader(testSet, evalTransform, batchSize * 2, shuffle: false, seed, workers), mean, std);
    }

    static int? DeclareNull(Args a, string name, string help)
    {
        a.String(name, null, help);
        return null;
    }

    static string Key(string option) => option.Split('=')[0].Trim().ToLowerInvariant();

    /// <summary>The command line as given, without --resume, so a resumed run rebuilds the same configuration.</summary>
    static string[] OriginalArgs()
    {
        var argv = Environment.GetCommandLineArgs().Skip(1).ToList();
        if (argv.Count > 0 && argv[0] == "train") argv.RemoveAt(0);
        return [.. argv];
    }

    /// <summary>Rebuilds the model a checkpoint was trained as and loads its weights.</summary>
    public static (ZooModel Model, CheckpointInfo Info) LoadCheckpoint(string path, Device device)
    {
        var info = Checkpoint.ReadInfo(path);
        var model = ModelRegistry.Create(info.Model, info.NumClasses, new ModelOptions(info.ModelOptions));
        Checkpoint.Load(path, model);
        model.to(device);
        model.eval();
        return (model, info);
    }

    static int Eval(Args a)
    {
        string? checkpoint = a.String("checkpoint", null, "a .ckpt written by train");
        string data = a.String("data", "mnist", "mnist, fashion-mnist or a folder")!;
        int batchSize = a.Int("batch-size", 128, "batch size", 1);
        var (device, seed) = Runtime(a);
        if (a.Help) { Console.WriteLine(a.Usage("eval --checkpoint FILE [--data mnist]")); return 0; }
        a.EnsureNoUnknown();
        if (checkpoint is null) throw new UsageException("eval needs --checkpoint FILE");
        var (trained, info) = LoadCheckpoint(checkpoint, device);
        using var model = InferenceModel.Optimize(trained);
        var (_, test, source) = DataSetup.Load(data, 0.2, seed, BadDataPolicy.Skip);
        int size = (int)info.InputShape[^1];
        var (_, transform) = DataSetup.Pipeline(test.Load(0), trained.Input, size, info.Mean, info.Std, augment: false);
        var result = Trainer.Evaluate(model, new DataLoader(test, transform, batchSize, false, seed), device, info.NumClasses);
        Console.WriteLine($"{info.Model} on {source}: {result.Samples} images, loss {result.Loss:F4}, top-1 {100 * result.Top1:F2}%, top-5 {100 * result.Top5:F2}%");
        Console.WriteLine(Reports.ConfusionText(result.Confusion, info.Classes));
        return 0;
    }

    static int Predict(Args a)
    {
        string? checkpoint = a.String("checkpoint", null, "a .ckpt written by train");
        int top = a.Int("top", 5, "classes to show per image", 1);
        var (device, _) = Runtime(a);
        if (a.Help) { Console.WriteLine(a.Usage("predict --checkpoint FILE image.png [more images]")); return 0; }
        a.EnsureNoUnknown();
        if (checkpoint is null) throw new UsageException("predict needs --checkpoint FILE");
        if (a.Positional.Count == 0) throw new UsageException("predict needs at least one image file");
        var (trained, info) = LoadCheckpoint(checkpoint, device);
        using var model = InferenceModel.Optimize(trained);
        int size = (int)info.InputShape[^1];
        foreach (string file in a.Positional)
        {
            var image = ImageCodec.Decode(file, trained.Input.Channels == 1 ? ColorMode.Grey : ColorMode.Rgb);
            var (_, transform) = DataSetup.Pipeline(image, trained.Input, size, info.Mean, info.Std, augment: false);
            var x = transform.Apply(image, new Random(0));
            using var _ = no_grad();
            using var scope = NewDisposeScope();
            var input = torch.tensor(x.Pixels, [1, x.Channels, x.Height, x.Width]).to(device);
            var probabilities = nn.functional.softmax(model.call(input), 1)[0].cpu();
            var (values, indexes) = probabilities.topk(Math.Min(top, info.NumClasses));
            Console.WriteLine(file);
            for (int i = 0; i < values.shape[0]; i++)
            {
                long c = indexes[i].item<long>();
                string name = c < info.Classes.Count ? info.Classes[(int)c] : c.ToString(CultureInfo.InvariantCulture);
                Console.WriteLine($"  {name,-20} {100 * values[i].item<float>(),6:F2}%");
            }
        }
        return 0;
    }

    static int Models(Args a)
    {
        if (a.Help) { Console.WriteLine(a.Usage("models")); return 0; }
        a.EnsureNoUnknown();
        Console.WriteLine($"{"name",-18} {"parameters",14} {"GMACs",8} {"input",-10} {"layers",6}  paper");
        foreach (var entry in ModelRegistry.All)
        {
            using var model = entry.Create(entry.DefaultClasses, ModelOptions.None);
            var s = ModelSummary.Of(model, model.Input.DefaultShape);
            string input = $"{model.Input.Channels}x{model.Input.Height}x{model.Input.Width}";
            Console.WriteLine($"{entry.Name,-18} {s.TotalParameters,14:N0} {s.TotalMacs / 1e9,8:F2} {input,-10} {s.WeightLayerCount,6}  {entry.Paper}");
        }
        Console.WriteLine("(ImageNet models at 1000 classes, LeNet-5 at 10; MACs count convolutions and linear layers at the default input size)");
        return 0;
    }

    static int Summary(Args a)
    {
        string? input = a.String("input", null, "input shape CxHxW (default: the model's)");
        int classes = a.Int("classes", 1000, "number of classes", 1);
        var userOptions = a.All("opt", "model option key=value");
        if (a.Help) { Console.WriteLine(a.Usage("summary <model> [--input 3x224x224]")); return 0; }
        a.EnsureNoUnknown();
        if (a.Positional.Count != 1) throw new UsageException($"summary needs one model name; known: {string.Join(", ", ModelRegistry.Names)}");
        using var model = ModelRegistry.Create(a.Positional[0], classes, ModelOptions.Parse(userOptions));
        long[] shape = input is null ? model.Input.DefaultShape : ParseShape(input);
        Console.Write(ModelSummary.Of(model, shape).ToTable());
        return 0;
    }

    static long[] ParseShape(string text)
    {
        var parts = text.Split('x', 'X', ',');
        if (parts.Length != 3 || !parts.All(p => long.TryParse(p, out long v) && v > 0))
            throw new UsageException($"--input: expected CxHxW such as 3x224x224; found '{text}'");
        return parts.Select(long.Parse).ToArray();
    }

    static int ExportImages(Args a)
    {
        string data = a.String("data", "fashion-mnist", "mnist, fashion-mnist or an IDX folder")!;
        string? output = a.String("out", null, "folder to write (one sub-folder per class)");
        int perClass = a.Int("per-class", 100, "images per class and split (0: all)", 0);
        var format = a.Enum("format", ImageFileFormat.Png, "image file format");
        if (a.Help) { Console.WriteLine(a.Usage("export-images --data fashion-mnist --out DIR [--per-class 100]")); return 0; }
        a.EnsureNoUnknown();
        if (output is null) throw new UsageException("export-images needs --out DIR");
        var (train, test, source) = DataSetup.Load(data, 0.2, 0, BadDataPolicy.Fail);
        DatasetExport.ToImageFolder(train, Path.Combine(output, "train"), perClass == 0 ? null : perClass, format);
        DatasetExport.ToImageFolder(test, Path.Combine(output, "test"), perClass == 0 ? null : perClass, format);
        Console.WriteLine($"Wrote {source} as {format} files to {Path.GetFullPath(output)}/train and /test");
        return 0;
    }
}
