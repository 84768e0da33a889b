using System.CommandLine;
using System.Globalization;
using Cnn.Onnx.Import;
using Cnn.Transfer.Catalog;
using Cnn.Zoo;

namespace Cnn.Training.Cli;

/// <summary>
/// <c>cnnzoo models</c>: the zoo with parameters and multiply-accumulates, from the registry's facts (instant);
/// <c>models --weights</c>: every pretrained weights entry with its published accuracy and whether it is cached.
/// </summary>
public static class ModelsCommand
{
    public static Command Create(CliSession session)
    {
        var weights = CliOptions.Flag("--weights", "list the pretrained weights instead: published acc@1/acc@5 and whether each file is in the cache");
        var command = new Command("models", "list the zoo with parameters and multiply-accumulates") { weights };
        command.SetAction(parse =>
        {
            if (parse.GetValue(weights)) ListWeights();
            else ListModels();
            return ExitCode.Success;
        });
        return command;
    }

    static void ListModels()
    {
        Console.WriteLine($"{"name",-18} {"parameters",14} {"GMACs",8} {"input",-10} {"layers",6}  paper");
        foreach (var entry in ModelRegistry.All)
        {
            var f = ModelFacts.Of(entry);
            Console.WriteLine($"{entry.Name,-18} {f.Parameters,14:N0} {f.Macs / 1e9,8:F2} {f.Input,-10} {f.WeightLayers,6}  {entry.Paper}");
        }
        Console.WriteLine("(ImageNet models at 1000 classes, LeNet-5 at 10; MACs count convolutions and linear layers at the default input size)");
    }

    static void ListWeights()
    {
        var cache = WeightsCache.FromEnvironment();
        static string Percent(double? value) => value is double v ? v.ToString("F2", CultureInfo.InvariantCulture) : "-";
        Console.WriteLine($"{"model",-16} {"weights",-19} {"acc@1",6} {"acc@5",6} {"resize/crop",11}  {"cached",-6}  source");
        foreach (var entry in PretrainedBackbones.Catalog.Entries)
        {
            string name = entry.Name + (entry.IsDefault ? " *" : "");
            string sizes = $"{entry.Preprocessing.ResizeSize}/{entry.Preprocessing.CropSize}";
            string cached = File.Exists(entry.Source.LocalPath(cache)) ? "yes" : "no";
            string source = entry.Source is PublishedFile file ? file.FileName : entry.Source.Origin;
            Console.WriteLine($"{entry.Model,-16} {name,-19} {Percent(entry.Acc1),6} {Percent(entry.Acc5),6} {sizes,11}  {cached,-6}  {source}");
        }
        Console.WriteLine($"* = {WeightsCatalog.DefaultName}. ImageNet-1k validation accuracy as torchvision publishes it. Downloads go to "
                          + $"{cache.CheckpointsDirectory} (torch.hub's cache; $TORCH_HOME), from "
                          + $"{cache.BaseUrl ?? WeightsCache.PublishedBaseUrl}{(cache.BaseUrl is null ? $" (${WeightsCache.MirrorVariable} names a mirror)" : "")}; "
                          + $"converted weights to {cache.ConvertedDirectory}.");
    }
}
