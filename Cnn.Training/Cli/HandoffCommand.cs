using Cnn.Transfer;
using System.CommandLine;
using Cnn.Training.Data;
using Cnn.Training.Handoff;
using Cnn.Training.Training;
using Cnn.Onnx.Import;
using Cnn.Transfer.Catalog;
using Cnn.Zoo;
using TorchSharp;

namespace Cnn.Training.Cli;

/// <summary>
/// <c>cnnzoo handoff</c>: a run handed to PyTorch's distributed training (TorchSharp has no DistributedDataParallel).
/// Writes a folder with the weights, the split as image lists, the fine-tune recipe and a torchrun script
/// (<see cref="HandoffFolder"/>); the script's result loads back with <c>--weights FILE</c>.
/// </summary>
public static class HandoffCommand
{
    public static Command Create(CliSession session)
    {
        var source = new ModelSourceOptions();
        var data = CliOptions.OptionalText("--data", "mnist, fashion-mnist or a folder (default with --checkpoint: the data it trained on, split as it recorded)", "data");
        var output = CliOptions.OptionalText("--out", "new or empty folder to write the handoff into", "folder");
        var inputSize = SharedOptions.InputSize(
            $"with --weights, as finetune: the crop size of published weights; {FinetuneRecipe.Default.FileInputSize} for a file");
        var seed = CliOptions.Int("--seed", 42, "split seed of an image folder and of --train-per-class with --weights, and the training script's default seed");
        var trainPerClass = SharedOptions.TrainPerClass();
        var command = new Command("handoff",
            "write a folder that PyTorch's distributed training runs (torchrun ... train.py) and whose result loads back with --weights")
        {
            data, output, inputSize, seed, trainPerClass,
        };
        foreach (var option in source.All) command.Add(option);
        command.SetAction(parse =>
        {
            var (checkpoint, modelName, weightsName) = source.Read(parse, "handoff");
            string folder = Path.GetFullPath(parse.GetValue(output) ?? throw new UsageException("handoff needs --out FOLDER (a new or empty folder)"));
            HandoffFolder.EnsureEmpty(folder);
            if (checkpoint is not null && parse.WasGiven(inputSize))
                throw new UsageException("--input-size: a checkpoint records its input size; give it only with --model NAME --weights NAME|FILE");
            if (checkpoint is not null && parse.WasGiven(trainPerClass))
                throw new UsageException("--train-per-class: a checkpoint is handed off with the split it records; give it only with --model NAME --weights NAME|FILE");
            var recipe = FinetuneRecipe.Default;
            var run = checkpoint is not null
                ? FromCheckpoint(checkpoint, parse.GetValue(data), recipe, parse.GetValue(seed))
                : FromWeights(modelName, weightsName!, parse.GetValue(data), parse.GetValue(inputSize), parse.GetValue(trainPerClass), recipe, parse.GetValue(seed));
            using (run.Model)
            {
                // The transforms Cnn.Zoo would build: refuses data of a channel count the model cannot take, before writing.
                DataSetup.Pipeline(run.Train.Geometry, run.Model.Input, run.Preprocessing, augment: false);
                HandoffFolder.Write(run, folder, recipe, parse.GetValue(seed));
            }
            Console.WriteLine($"Wrote {folder}: {run.Architecture} from {run.Source}, {run.Train.Count} training and {run.HeldOut.Count} held-out images, {run.Classes.Count} classes");
            Console.WriteLine($"Preprocessing: {run.Preprocessing}");
            Console.WriteLine($"Train it: cd {folder} && torchrun --standalone --nproc_per_node N train.py   (README.md: several machines, bringing it back)");
            Console.WriteLine($"Bring it back: cnnzoo eval --model {run.Architecture} --weights {Path.Combine(folder, "result", HandoffFolder.Weights)} --data {DataSplit.Identify(run.Data)}");
            return ExitCode.Success;
        });
        return command;
    }

    /// <summary>A checkpoint with the split it records; other data (with the same classes) is split as finetune would.</summary>
    static HandoffRun FromCheckpoint(string path, string? data, FinetuneRecipe recipe, int seed)
    {
        var ready = ReadyModel.FromCheckpoint(path, torch.CPU);
        var info = ready.Checkpoint!;
        var recorded = info.Split ?? throw new InvalidDataException(
            $"{path} records no split of its data (written before splits were recorded), so which images it trained on is " +
            "unknown; hand off its weights instead: --model NAME --weights FILE --data FOLDER");
        data ??= recorded.Data;
        IImageDataset train, heldOut;
        DataSplit split;
        if (recorded.IsOf(data))
        {
            (train, heldOut, _) = DataSources.LoadAsRecorded(recorded, BadDataPolicy.Fail);
            split = recorded;
        }
        else
        {
            (train, heldOut, _, split) = DataSources.LoadForTraining(data, recipe.HeldOut, seed, BadDataPolicy.Fail, perClass: 0);
            if (!train.Classes.SequenceEqual(info.Classes))
                throw new InvalidDataException(
                    $"--data {data} has the classes [{string.Join(", ", train.Classes)}] but {path} was trained on " +
                    $"[{string.Join(", ", info.Classes)}]; expected the same classes in the same order (or hand off --model NAME --weights FILE for a new head)");
        }
        return new HandoffRun(ready.Model, ready.Architecture, ready.ModelOptions, info.Classes, ready.Preprocessing,
                              data, train, heldOut, split, Path.GetFullPath(path));
    }

    /// <summary>
    /// Pretrained weights on <paramref name="data"/>, split as finetune splits it, and with <paramref name="perClass"/>
    /// above 0 the same few training images of each class as finetune's <c>--train-per-class</c> with the same seed.
    /// The weights' classifier is kept when it has one output per class of the data, else a new one is made, seeded
    /// as finetune seeds its own (so the two start from the same weights). The preprocessing is the weights' own
    /// (published, or a file's <see cref="WeightsSidecar"/>), at <paramref name="inputSize"/> when given; a bare file
    /// gets finetune's: <see cref="DataSetup.ForTraining"/> at the recipe's size (a fixed-size model's own size).
    /// </summary>
    static HandoffRun FromWeights(string? modelName, string weightsName, string? data, int? inputSize, int perClass, FinetuneRecipe recipe, int seed)
    {
        if (data is null) throw new UsageException("handoff --model NAME --weights NAME|FILE needs --data mnist|fashion-mnist|FOLDER: the images to train on");
        PretrainedBackbones.Catalog.Check(modelName, weightsName);
        var (train, heldOut, _, split) = DataSources.LoadForTraining(data, recipe.HeldOut, seed, BadDataPolicy.Fail, perClass);
        // A backbone (weights without a classifier, like the built-in resnet18_2223) always gets a new head; other
        // weights keep theirs when it has one output per class of the data. A new head is drawn right after seeding,
        // as finetune draws its own, so that both start from the same weights.
        bool backbone = modelName is not null && PretrainedBackbones.Catalog.TryGet(modelName, weightsName, out var entry) && entry.NumClasses is null;
        torch.manual_seed(seed);
        var pretrained = ModelSourceOptions.LoadWeights(modelName, weightsName, backbone ? train.Classes.Count : null);
        bool keepHead = !backbone && pretrained.Model.NumClasses == train.Classes.Count;
        if (!keepHead && !backbone)
        {
            pretrained.Dispose();
            torch.manual_seed(seed);
            pretrained = ModelSourceOptions.LoadWeights(modelName, weightsName, train.Classes.Count);
        }
        Console.WriteLine(keepHead
            ? $"Classifier: the weights' own ({train.Classes.Count} outputs, one per class of the data)"
            : $"Classifier: new, for the data's {train.Classes.Count} classes (the weights have {(backbone ? "none" : "another count")})");
        var model = pretrained.Model;
        string architecture = pretrained.Entry.Architecture;
        bool described = pretrained.Published || pretrained.Sidecar is not null;
        Preprocessing preprocessing;
        if (described)
            preprocessing = pretrained.Preprocessing.WithCropSize(inputSize ?? pretrained.Preprocessing.CropSize);
        else
        {
            // A fixed-size model (LeNet-5's 32) takes nothing else; finetune's default size suits the others.
            int size = inputSize ?? (model.Input.FixedSize ? model.Input.Height : recipe.FileInputSize);
            preprocessing = DataSetup.ForTraining(data, train.Geometry, model.Input.Channels, size, augment: false);
        }
        model.Input.RequireSide(preprocessing.CropSize, architecture);
        var classes = keepHead && pretrained.Categories is { } categories ? categories : train.Classes;
        return new HandoffRun(model, architecture, pretrained.Entry.Options, classes, preprocessing,
                              data, train, heldOut, split, $"{pretrained.Entry} ({pretrained.Location})");
    }
}
