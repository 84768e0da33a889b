using System.CommandLine;
using Cnn.Zoo;
using Cnn.Zoo.Analysis;

namespace Cnn.Training.Cli;

/// <summary><c>cnnzoo summary NAME</c>: the per-layer table of a model (shapes, parameters, MACs, weight-layer numbers).</summary>
public static class SummaryCommand
{
    public static Command Create(CliSession session)
    {
        var input = CliOptions.OptionalText("--input", "input shape CxHxW (default: the model's)", "CxHxW");
        var classes = CliOptions.Int("--classes", 1000, "number of classes", 1);
        var modelOptions = CliOptions.Repeatable("--opt", "model option key=value", "key=value");
        var name = new Argument<string>("model") { Description = "a model name (see 'models')", HelpName = "model" };
        name.CompletionSources.Add(_ => ModelRegistry.Names.Select(n => new System.CommandLine.Completions.CompletionItem(n)));
        var command = new Command("summary", "per-layer table of a model: shapes, parameters, MACs, weight-layer numbers")
        {
            input, classes, modelOptions, name,
        };
        command.SetAction(parse =>
        {
            using var model = ModelRegistry.Create(parse.GetValue(name)!, parse.GetValue(classes), ModelOptions.Parse(parse.GetValue(modelOptions)!));
            string? shape = parse.GetValue(input);
            Console.Write(ModelSummary.Of(model, shape is null ? model.Input.DefaultShape : ParseShape(shape)).ToTable());
            return ExitCode.Success;
        });
        return command;
    }

    static long[] ParseShape(string text)
    {
        var parts = text.Split('x', 'X', ',');
        if (parts.Length != 3 || !parts.All(p => long.TryParse(p, out long v) && v > 0))
            throw new UsageException($"--input: expected CxHxW such as 3x224x224; found '{text}'");
        return parts.Select(long.Parse).ToArray();
    }
}
