using System.CommandLine;
using Cnn.Training.Data;
using Cnn.Training.Reporting;
using Cnn.Training.Training;
using Cnn.Zoo.Inference;

namespace Cnn.Training.Cli;

/// <summary><c>cnnzoo eval</c>: loss, top-1, top-5 and the confusion matrix of a checkpoint on a data set.</summary>
public static class EvalCommand
{
    public static Command Create(CliSession session)
    {
        var checkpoint = CliOptions.OptionalText("--checkpoint", "a .ckpt written by train or finetune", "file");
        var data = CliOptions.Text("--data", "mnist", "mnist, fashion-mnist or a folder", "data");
        var batchSize = CliOptions.Int("--batch-size", 128, "batch size", 1);
        var precision = PrecisionOption.Create();
        var runtime = new RuntimeOptions();
        var command = new Command("eval", "evaluate a checkpoint on a data set: loss, top-1, top-5, confusion matrix")
        {
            checkpoint, data, batchSize, precision,
        };
        foreach (var option in runtime.All) command.Add(option);
        command.SetAction(parse =>
        {
            string path = parse.GetValue(checkpoint) ?? throw new UsageException("eval needs --checkpoint FILE");
            var (device, seed) = runtime.Apply(parse);
            var (trained, info) = TrainedModel.Load(path, device);
            var (_, test, source) = DataSetup.Load(parse.GetValue(data)!, 0.2, seed, BadDataPolicy.Skip);
            if (!test.Classes.SequenceEqual(info.Classes))
                throw new InvalidDataException(
                    $"{source} has the classes [{Shorten(test.Classes)}] but {path} was trained on [{Shorten(info.Classes)}]; " +
                    "evaluate on data with the same classes in the same order");
            using var model = InferenceModel.Optimize(trained, new InferenceOptions(Precision: PrecisionOption.Value(parse, precision)));
            Console.WriteLine(PrecisionOption.Describe(model));
            int size = (int)info.InputShape[^1];
            var (_, transform) = DataSetup.Pipeline(test.Load(0), trained.Input, size, info.Mean, info.Std, augment: false);
            var result = Trainer.Evaluate(model, new DataLoader(test, transform, parse.GetValue(batchSize), false, seed), device, info.NumClasses);
            Console.WriteLine($"{info.Model} on {source}: {result.Samples} images, loss {result.Loss:F4}, top-1 {100 * result.Top1:F2}%, top-5 {100 * result.Top5:F2}%");
            Console.WriteLine(Reports.ConfusionText(result.Confusion, info.Classes));
            return ExitCode.Success;
        });
        return command;
    }

    static string Shorten(IReadOnlyList<string> classes)
        => string.Join(", ", classes.Take(12)) + (classes.Count > 12 ? $", ... ({classes.Count} in all)" : "");
}
