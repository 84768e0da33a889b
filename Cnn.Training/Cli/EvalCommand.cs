using System.CommandLine;
using Cnn.Training.Data;
using Cnn.Training.Reporting;
using Cnn.Training.Training;
using Cnn.Zoo.Inference;
using TorchSharp;

namespace Cnn.Training.Cli;

/// <summary><c>cnnzoo eval</c>: loss, top-1, top-5 and the confusion matrix of a checkpoint on a data set.</summary>
public static class EvalCommand
{
    public static Command Create(CliSession session)
    {
        var weightsSource = new ModelSourceOptions();
        var data = SharedOptions.Data("mnist");
        var batchSize = SharedOptions.BatchSize(128);
        var backend = BackendOption.Create();
        var precision = PrecisionOption.Create();
        var runtime = new RuntimeOptions();
        var command = new Command("eval", "evaluate a checkpoint on a data set: loss, top-1, top-5, confusion matrix")
        {
            data, batchSize, backend, precision,
        };
        foreach (var option in weightsSource.All.Concat(runtime.All)) command.Add(option);
        command.SetAction(parse =>
        {
            var named = weightsSource.Read(parse, "eval");
            var (device, seed) = runtime.Apply(parse);
            using var ready = ModelSourceOptions.Load(named, device);
            // A checkpoint (or a weights file's model.json) says which data it trained on and how it was split: eval
            // scores exactly the held-out part.
            var (test, source) = DataSources.LoadForEvaluation(parse.GetValue(data)!, ready.Split, BadDataPolicy.Skip);
            var trained = ready.Model;
            if (ready.ClassesFromData && ready.Classes is { } known && !test.Classes.SequenceEqual(known))
                throw new InvalidDataException(
                    $"{source} has the classes [{Shorten(test.Classes)}] but {ready.Source} was trained on [{Shorten(known)}]; " +
                    "evaluate on data with the same classes in the same order");
            // An image folder's classes are its sorted sub-folder names: ImageNet's synset folders (n01440764, ...)
            // sort into the index order of the published classifier, so only the count can be checked for them.
            if (test.Classes.Count != trained.NumClasses)
                throw new InvalidDataException(
                    $"{source} has {test.Classes.Count} classes but {ready.Source} predicts {trained.NumClasses}; evaluate on data " +
                    "with one sub-folder per class of the weights, sorted in the classifier's order (ImageNet: the synset folders)");
            var classes = ready.Classes ?? test.Classes;
            var transform = ready.EvalTransform(test.Geometry);
            var loader = new DataLoader(test, transform, parse.GetValue(batchSize), false, seed);
            // auto proves bf16 on the user's own images: the first eight of the evaluation set.
            TorchSharp.torch.Tensor Calibration()
            {
                using var first = new DataLoader(test, transform, Math.Min(8, test.Count), false, seed, workers: 0).Epoch(0).First();
                return first.Images.clone().to(device).DetachFromDisposeScope();
            }
            using var optimized = BackendOption.Prepare(parse.GetValue(backend), trained, ready.Preprocessing.CropSize, PrecisionOption.Value(parse, precision), Calibration);
            var result = Trainer.Evaluate(optimized, loader, device, trained.NumClasses);
            Console.WriteLine($"{ready.Source} on {source}: {result.Samples} images, loss {result.Loss:F4}, top-1 {100 * result.Top1:F2}%, top-5 {100 * result.Top5:F2}%");
            // A 1000 x 1000 matrix (ImageNet weights) helps nobody on a console.
            if (classes.Count <= 30) Console.WriteLine(Reports.ConfusionText(result.Confusion, classes));
            return ExitCode.Success;
        });
        return command;
    }

    static string Shorten(IReadOnlyList<string> classes)
        => string.Join(", ", classes.Take(12)) + (classes.Count > 12 ? $", ... ({classes.Count} in all)" : "");
}
