using System.CommandLine;
using Cnn.Zoo;

namespace Cnn.Training.Cli;

/// <summary><c>cnnzoo models</c>: the zoo with parameters and multiply-accumulates, from the registry's facts (instant).</summary>
public static class ModelsCommand
{
    public static Command Create(CliSession session)
    {
        var command = new Command("models", "list the zoo with parameters and multiply-accumulates");
        command.SetAction(_ =>
        {
            Console.WriteLine($"{"name",-18} {"parameters",14} {"GMACs",8} {"input",-10} {"layers",6}  paper");
            foreach (var entry in ModelRegistry.All)
            {
                var f = ModelFacts.Of(entry);
                Console.WriteLine($"{entry.Name,-18} {f.Parameters,14:N0} {f.Macs / 1e9,8:F2} {f.Input,-10} {f.WeightLayers,6}  {entry.Paper}");
            }
            Console.WriteLine("(ImageNet models at 1000 classes, LeNet-5 at 10; MACs count convolutions and linear layers at the default input size)");
            return ExitCode.Success;
        });
        return command;
    }
}
