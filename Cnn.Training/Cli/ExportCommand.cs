using System.CommandLine;
using Cnn.Onnx;
using Cnn.Zoo;
using Cnn.Zoo.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Training.Cli;

/// <summary>
/// <c>cnnzoo export</c>: a trained checkpoint, or a zoo model with PyTorch or published weights, as an ONNX file with
/// its class names and preprocessing in the metadata; the file is then run once in ONNX Runtime against the model.
/// </summary>
public static class ExportCommand
{
    public static Command Create(CliSession session)
    {
        var source = new ModelSourceOptions();
        var output = CliOptions.OptionalText("--out", "the .onnx file to write", "file");
        var inputSize = CliOptions.OptionalInt("--input-size", "input height and width the graph is written for (default: the checkpoint's or the weights' size)", 1);
        var command = new Command("export", "write a model as an ONNX file for ONNX Runtime, ML.NET and other runtimes")
        {
            output, inputSize,
        };
        foreach (var option in source.All) command.Add(option);
        command.SetAction(parse =>
        {
            string path = parse.GetValue(output) ?? throw new UsageException("export needs --out FILE.onnx");
            var (checkpointPath, modelName, weightsName) = source.Read(parse, "export");

            var (zoo, options) = checkpointPath is not null ? FromCheckpoint(checkpointPath) : FromWeights(modelName!, weightsName!);
            using (zoo)
            {
                if (parse.GetValue(inputSize) is int size)
                    options = options with { Height = size, Width = size, Preprocessing = Rescaled(options.Preprocessing, size) };
                OnnxExport.Export(zoo, path, options);
                Console.WriteLine($"Wrote {path} ({new FileInfo(path).Length / 1e6:F1} MB): {zoo.GetName()}, input '{OnnxExport.InputName}' " +
                                  $"batch x {zoo.Input.Channels} x {options.Height ?? options.Preprocessing?.CropSize ?? zoo.Input.Height} x " +
                                  $"{options.Width ?? options.Preprocessing?.CropSize ?? zoo.Input.Width}, output '{OnnxExport.OutputName}' batch x {zoo.NumClasses}, opset {OnnxExport.Opset}");
                Console.WriteLine(Verify(zoo, path));
            }
            return ExitCode.Success;
        });
        return command;
    }

    /// <summary>The same preprocessing for another crop size, the resize scaled with it (256/224 stays 256/224).</summary>
    static Preprocessing? Rescaled(Preprocessing? preprocessing, int size)
        => preprocessing is null ? null
           : new Preprocessing(Math.Max(preprocessing.ResizeSize * size / preprocessing.CropSize, size), size,
                               preprocessing.Mean, preprocessing.Std, preprocessing.Interpolation);

    static (ZooModel Model, OnnxExportOptions Options) FromCheckpoint(string path)
    {
        var (model, info) = TrainedModel.Load(path, torch.CPU);
        int size = (int)info.InputShape[^1];
        var preprocessing = info.EvalPreprocessing();   // the resize, crop and statistics eval uses (CheckpointInfo)
        var classes = info.Classes.Count == info.NumClasses ? info.Classes : null;
        return (model, new OnnxExportOptions(ClassNames: classes, Preprocessing: preprocessing));
    }

    /// <summary>The same model, weights and preprocessing predict and eval get for <c>--model --weights</c>.</summary>
    static (ZooModel Model, OnnxExportOptions Options) FromWeights(string modelName, string weights)
    {
        var pretrained = PretrainedWeights.Load(modelName, weights, numClasses: null);
        pretrained.Model.eval();
        return (pretrained.Model, new OnnxExportOptions(ClassNames: pretrained.Categories, Preprocessing: pretrained.Preprocessing));
    }

    /// <summary>One batch through the file in ONNX Runtime and through the model: the user sees the export is faithful.</summary>
    static string Verify(ZooModel model, string path)
    {
        using var runtime = OnnxRuntimeModel.Load(path);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var shape = runtime.InputShape.Select(d => d < 0 ? 1L : d).ToArray();
        var x = torch.rand(shape);
        var expected = model.call(x);
        var difference = (runtime.call(x) - expected).abs().max().item<float>();
        var scale = expected.abs().max().item<float>();
        return $"Checked in ONNX Runtime: max |difference| {difference:G3} at output scale {scale:G3}";
    }
}
