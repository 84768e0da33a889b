using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Cnn.Training.Data;
using Cnn.Training.Reporting;
using Cnn.Training.Training;
using Cnn.Transfer;
using Cnn.Zoo.IO;
using TorchSharp;

namespace Cnn.Training.Cli;

/// <summary>
/// <c>--lr NUMBER|auto</c> for train and finetune: <c>auto</c> runs the learning-rate range test
/// (<see cref="LearningRateFinder"/>) on the user's training data from the current weights, prints the suggestion and
/// the rule that picked it, draws <c>lr_find.png</c> in the run folder and trains at that rate. The rate found is kept
/// in <c>lr_find.json</c>, so <c>--resume</c> continues at the same rate instead of searching again.
/// </summary>
public static class LearningRateOption
{
    public const string Auto = "auto";
    const string Picture = "lr_find.png", Record = "lr_find.json";

    /// <summary>The option: a positive number or <c>auto</c>; null (not given) when <paramref name="fallback"/> is null.</summary>
    public static Option<string?> Create(string description, string? fallback = null)
    {
        var option = new Option<string?>("--lr")
        {
            Description = description + "; auto: run a learning-rate range test first and use its suggestion",
            HelpName = "number|auto",
            CustomParser = r =>
            {
                string text = r.Tokens.Single().Value;
                if (text.Equals(Auto, StringComparison.OrdinalIgnoreCase)) return Auto;
                if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && value > 0 && double.IsFinite(value))
                    return text;
                r.AddError($"--lr: expected a positive number or auto; found '{text}'");
                return fallback;
            },
        };
        if (fallback is not null) option.DefaultValueFactory = _ => fallback;
        return option;
    }

    /// <summary>The rate the user gave (null: not given, or auto), and whether auto was asked for.</summary>
    public static (double? Rate, bool Auto) Read(ParseResult parse, Option<string?> option)
        => parse.GetValue(option) switch
        {
            null => (null, false),
            Auto => (null, true),
            string text => (double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture), false),
        };

    /// <summary>
    /// Runs the range test for <paramref name="groups"/> of <paramref name="model"/> (their ratios are kept) with a
    /// throw-away optimizer of the kind <paramref name="config"/> trains with, or reads the rate an earlier search of this run folder found.
    /// Returns the suggested rate for the first group.
    /// </summary>
    public static double Find(TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor> model,
                              IReadOnlyList<ParameterGroup> groups, TrainConfig config, DataLoader loader, RunFolder run)
    {
        string record = run.File(Record);
        if (File.Exists(record))
        {
            using var saved = JsonDocument.Parse(File.ReadAllText(record));
            double kept = saved.RootElement.GetProperty("suggested").GetDouble();
            Console.WriteLine($"--lr auto: {kept:G3}, found by this run's range test ({record})");
            return kept;
        }
        Console.WriteLine($"--lr auto: learning-rate range test, {LearningRateFinder.Steps} steps from {LearningRateFinder.Start:G1} to {LearningRateFinder.End:G1} ...");
        LearningRateSearch search;
        using (var optimizer = OptimizerFactory.Create(config.Optimizer, groups, config.WeightDecay, config.Momentum, config.Nesterov))
        {
            int epoch = 0;
            search = LearningRateFinder.Run(model, optimizer, () => loader.Epoch(epoch++), TorchSharp.torch.device(config.Device));
        }
        Charts.Save(Charts.LearningRate(search), run.File(Picture), Charts.CurveWidth, Charts.CurveHeight);
        AtomicFile.WriteAllText(record, JsonSerializer.Serialize(new
        {
            suggested = search.Suggested, rule = search.Rule, ended = search.Ended, rates = search.Rates, losses = search.Losses,
        }, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"--lr auto: {search.Suggested:G3} ({search.Rule}); {search.Ended}. Weights restored; the curve: {run.File(Picture)}");
        return search.Suggested;
    }
}
