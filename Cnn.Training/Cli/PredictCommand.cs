using System.CommandLine;
using System.Globalization;
using Cnn.Training.Data;
using Cnn.Zoo.Inference;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Training.Cli;

/// <summary><c>cnnzoo predict</c>: the top-k classes of image files, with probabilities.</summary>
public static class PredictCommand
{
    public static Command Create(CliSession session)
    {
        var checkpoint = CliOptions.OptionalText("--checkpoint", "a .ckpt written by train or finetune", "file");
        var top = CliOptions.Int("--top", 5, "classes to show per image", 1);
        var images = new Argument<string[]>("images") { Description = "image files (PNG, JPEG, WebP, ...)", Arity = ArgumentArity.ZeroOrMore };
        var precision = PrecisionOption.Create();
        var runtime = new RuntimeOptions();
        var command = new Command("predict", "top-k classes with probabilities for image files") { checkpoint, top, precision, images };
        foreach (var option in runtime.All) command.Add(option);
        command.SetAction(parse =>
        {
            string path = parse.GetValue(checkpoint) ?? throw new UsageException("predict needs --checkpoint FILE");
            var files = parse.GetValue(images) ?? [];
            if (files.Length == 0) throw new UsageException("predict needs at least one image file");
            var (device, _) = runtime.Apply(parse);
            var (trained, info) = TrainedModel.Load(path, device);
            using var model = InferenceModel.Optimize(trained, new InferenceOptions(Precision: PrecisionOption.Value(parse, precision)));
            Console.WriteLine(PrecisionOption.Describe(model));
            int size = (int)info.InputShape[^1];
            foreach (string file in files)
            {
                var image = ImageCodec.Decode(file, trained.Input.Channels == 1 ? ColorMode.Grey : ColorMode.Rgb);
                var (_, transform) = DataSetup.Pipeline(image, trained.Input, size, info.Mean, info.Std, augment: false);
                var x = transform.Apply(image, new Random(0));
                using var scope = NewDisposeScope();
                var input = torch.tensor(x.Pixels, [1, x.Channels, x.Height, x.Width]).to(device);
                var probabilities = nn.functional.softmax(model.call(input), 1)[0].cpu();
                var (values, indexes) = probabilities.topk(Math.Min(parse.GetValue(top), info.NumClasses));
                Console.WriteLine(file);
                for (int i = 0; i < values.shape[0]; i++)
                {
                    long c = indexes[i].item<long>();
                    string name = c < info.Classes.Count ? info.Classes[(int)c] : c.ToString(CultureInfo.InvariantCulture);
                    Console.WriteLine($"  {name,-20} {100 * values[i].item<float>(),6:F2}%");
                }
            }
            return ExitCode.Success;
        });
        return command;
    }
}
