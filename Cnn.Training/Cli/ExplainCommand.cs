using System.CommandLine;
using System.Globalization;
using Cnn.Training.Reporting;
using TorchSharp;

namespace Cnn.Training.Cli;

/// <summary>
/// <c>cnnzoo explain</c>: where the network looks. For each image, a Grad-CAM heat map over the image as the model saw
/// it (<c>DIR/&lt;name&gt;.gradcam.png</c>), the raw map (<c>.gradcam.csv</c>), and the top-5 classes on the console.
/// </summary>
public static class ExplainCommand
{
    public static Command Create(CliSession session)
    {
        var source = new ModelSourceOptions();
        var output = CliOptions.Text("--out", "explain", "folder that receives <image>.gradcam.png and .gradcam.csv", "folder");
        var targetClass = CliOptions.OptionalText("--class", "class to explain, as an index or a class name (default: each image's top-1)", "N|name");
        var layer = CliOptions.OptionalText("--layer", "target layer by module name, e.g. layer3 or features.20 (default: the output of the convolutional body)", "name");
        var images = new Argument<string[]>("images") { Description = "image files (PNG, JPEG, WebP, ...)", Arity = ArgumentArity.ZeroOrMore };
        var runtime = new RuntimeOptions();
        var command = new Command("explain", "Grad-CAM heat maps: which part of each image made the model decide")
        {
            output, targetClass, layer, images,
        };
        foreach (var option in source.All.Concat(runtime.All)) command.Add(option);
        command.SetAction(parse =>
        {
            var files = parse.GetValue(images) ?? [];
            var named = source.Read(parse, "explain");
            if (files.Length == 0) throw new UsageException("explain needs at least one image file");
            var (device, _) = runtime.Apply(parse);
            using var ready = ModelSourceOptions.Load(named, device);
            var explained = ready.Model;
            var settings = new ExplainSettings(ready.Preprocessing, ready.Classes ?? []);
            string? classText = parse.GetValue(targetClass);
            settings = settings with
            {
                TargetClass = classText is null ? null : ExplainSettings.ParseClass(classText, settings.Classes, explained.NumClasses),
                Layer = parse.GetValue(layer),
            };
            string folder = parse.GetValue(output)!;
            foreach (var (image, map, picture, csv) in Explainer.ExplainFiles(explained, files, folder, settings))
            {
                Console.WriteLine($"{image}: Grad-CAM of '{Name(settings, map.Class)}' at {map.LayerDescription} ({map.Height}x{map.Width}) -> {picture}, {Path.GetFileName(csv)}");
                foreach (var (c, probability) in map.Top(5))
                    Console.WriteLine($"  {Name(settings, c),-24} {100 * probability,6:F2}%");
            }
            return ExitCode.Success;
        });
        return command;
    }

    static string Name(ExplainSettings settings, int index)
        => index < settings.Classes.Count ? settings.Classes[index] : index.ToString(CultureInfo.InvariantCulture);
}
