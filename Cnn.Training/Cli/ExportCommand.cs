using System.CommandLine;
using Cnn.Onnx;
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
        var inputSize = SharedOptions.InputSize("the checkpoint's or the weights' size; the graph is written for it");
        var command = new Command("export", "write a model as an ONNX file for ONNX Runtime, ML.NET and other runtimes")
        {
            output, inputSize,
        };
        foreach (var option in source.All) command.Add(option);
        command.SetAction(parse =>
        {
            string path = parse.GetValue(output) ?? throw new UsageException("export needs --out FILE.onnx");
            using var ready = ModelSourceOptions.Load(source.Read(parse, "export"), torch.CPU);
            var zoo = ready.Model;
            // The resize, crop and statistics eval uses, and the class names, into the file's metadata.
            var options = new OnnxExportOptions(ClassNames: ready.Classes, Preprocessing: ready.Preprocessing);
            if (parse.GetValue(inputSize) is int size)
            {
                zoo.Input.RequireSide(size, zoo.GetName());
                options = options with { Height = size, Width = size, Preprocessing = ready.Preprocessing.WithCropSize(size) };
            }
            OnnxExport.Export(zoo, path, options);
            Console.WriteLine($"Wrote {path} ({new FileInfo(path).Length / 1e6:F1} MB): {zoo.GetName()}, input '{OnnxExport.InputName}' " +
                              $"batch x {zoo.Input.Channels} x {options.Height ?? options.Preprocessing?.CropSize ?? zoo.Input.Height} x " +
                              $"{options.Width ?? options.Preprocessing?.CropSize ?? zoo.Input.Width}, output '{OnnxExport.OutputName}' batch x {zoo.NumClasses}, opset {OnnxExport.Opset}");
            Console.WriteLine(Verify(zoo, path));
            return ExitCode.Success;
        });
        return command;
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
