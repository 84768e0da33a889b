using System.CommandLine;
using System.Globalization;
using Cnn.Training.Data;
using Cnn.Training.Reporting;
using Cnn.Zoo.Models;
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
        var checkpoint = CliOptions.OptionalText("--checkpoint", "a .ckpt written by train or finetune", "file");
        var model = CliOptions.OptionalText("--model", "zoo model of --weights (see 'models')", "name");
        var weights = CliOptions.OptionalText("--weights", "pretrained weights instead of a checkpoint: a published weights name (IMAGENET1K_V1, DEFAULT) or a .pt/.pth/.safetensors file", "name|file");
        var output = CliOptions.Text("--out", "explain", "folder that receives <image>.gradcam.png and .gradcam.csv", "folder");
        var targetClass = CliOptions.OptionalText("--class", "class to explain, as an index or a class name (default: each image's top-1)", "N|name");
        var layer = CliOptions.OptionalText("--layer", "target layer by module name, e.g. layer3 or features.20 (default: the output of the convolutional body)", "name");
        var images = new Argument<string[]>("images") { Description = "image files (PNG, JPEG, WebP, ...)", Arity = ArgumentArity.ZeroOrMore };
        var runtime = new RuntimeOptions();
        var command = new Command("explain", "Grad-CAM heat maps: which part of each image made the model decide")
        {
            checkpoint, model, weights, output, targetClass, layer, images,
        };
        foreach (var option in runtime.All) command.Add(option);
        command.SetAction(parse =>
        {
            string? path = parse.GetValue(checkpoint), weightsName = parse.GetValue(weights), modelName = parse.GetValue(model);
            if (path is not null && weightsName is not null)
                throw new UsageException("explain takes --checkpoint FILE or --model NAME --weights NAME|FILE, not both");
            if (path is null && weightsName is null)
                throw new UsageException("explain needs --checkpoint FILE, or --model NAME --weights NAME|FILE");
            if (weightsName is not null && modelName is null)
                throw new UsageException("--weights: name the zoo model they belong to with --model (see 'models --weights')");
            var files = parse.GetValue(images) ?? [];
            if (files.Length == 0) throw new UsageException("explain needs at least one image file");
            var (device, _) = runtime.Apply(parse);

            ZooModel explained;
            ExplainSettings settings;
            if (path is not null)
            {
                var (trained, info) = TrainedModel.Load(path, device);
                (explained, settings) = (trained, ExplainSettings.ForCheckpoint(info));
            }
            else
            {
                var pretrained = PretrainedWeights.Load(modelName!, weightsName!, numClasses: null);
                explained = pretrained.Model;
                explained.to(device);
                explained.eval();
                var p = pretrained.Preprocessing;
                settings = new ExplainSettings([.. p.Mean.Select(m => (float)m)], [.. p.Std.Select(s => (float)s)], pretrained.Categories ?? [])
                {
                    Transform = Transforms.Compose(Transforms.Resize(p.ResizeSize), Transforms.CenterCrop(p.CropSize, p.CropSize), Transforms.Normalize(p)),
                    InputSize = p.CropSize,
                };
            }
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
