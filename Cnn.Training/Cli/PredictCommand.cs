using System.CommandLine;
using System.Globalization;
using Cnn.Training.Data;
using Cnn.Zoo.Inference;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Training.Cli;

/// <summary>
/// <c>cnnzoo predict</c>: the top-k classes of image files, with probabilities, from a checkpoint of train or
/// finetune, or from pretrained weights by name (<c>--model resnet50 --weights IMAGENET1K_V2</c>: category names,
/// and the weights' own preprocessing) or file.
/// </summary>
public static class PredictCommand
{
    public static Command Create(CliSession session)
    {
        var source = new ModelSourceOptions();
        var top = CliOptions.Int("--top", 5, "classes to show per image", 1);
        var images = new Argument<string[]>("images") { Description = "image files (PNG, JPEG, WebP, ...; any size, grey, RGBA or palette)", Arity = ArgumentArity.ZeroOrMore };
        var backend = BackendOption.Create();
        var precision = PrecisionOption.Create();
        var runtime = new RuntimeOptions();
        var command = new Command("predict", "top-k classes with probabilities for image files") { top, backend, precision, images };
        foreach (var option in source.All.Concat(runtime.All)) command.Add(option);
        command.SetAction(parse =>
        {
            var files = parse.GetValue(images) ?? [];
            var named = source.Read(parse, "predict");
            if (files.Length == 0) throw new UsageException("predict needs at least one image file");
            var (device, _) = runtime.Apply(parse);
            using var ready = ModelSourceOptions.Load(named, device);
            var trained = ready.Model;
            var names = ready.Classes;
            Tensor Input(string file)
            {
                var image = ImageCodec.Decode(file, trained.Input.Channels);
                var x = ready.EvalTransform(SampleGeometry.Of(image)).Apply(image, new Random(0));
                return torch.tensor(x.Pixels, [1, x.Channels, x.Height, x.Width]).to(device);
            }
            // auto proves bf16 on the user's own images (the first eight).
            Tensor Calibration()
            {
                using var scope = NewDisposeScope();
                return torch.cat(files.Take(8).Select(Input).ToList(), 0).MoveToOuterDisposeScope();
            }
            using var optimized = BackendOption.Prepare(parse.GetValue(backend), trained, ready.Preprocessing.CropSize, PrecisionOption.Value(parse, precision), Calibration);
            foreach (string file in files)
            {
                using var scope = NewDisposeScope();
                var input = Input(file);
                var probabilities = nn.functional.softmax(optimized.call(input), 1)[0].cpu();
                var (values, indexes) = probabilities.topk(Math.Min(parse.GetValue(top), trained.NumClasses));
                Console.WriteLine(file);
                for (int i = 0; i < values.shape[0]; i++)
                {
                    long c = indexes[i].item<long>();
                    string name = names is not null && c < names.Count ? names[(int)c] : $"class {c.ToString(CultureInfo.InvariantCulture)}";
                    Console.WriteLine($"  {name,-30} {100 * values[i].item<float>(),6:F2}%");
                }
            }
            return ExitCode.Success;
        });
        return command;
    }
}
