using Cnn.Zoo.IO;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Cnn.Onnx.Export;
using Cnn.Zoo;
using Cnn.Zoo.Models;
using Cnn.Zoo.Runtime;
using Google.Protobuf;
using Onnx;
using static TorchSharp.torch;

namespace Cnn.Onnx;

/// <summary>
/// Exports a zoo model to ONNX, the format ONNX Runtime, ML.NET and most deployment tools run. The graph is written
/// from the model's typed layers (no tracing): one float input <c>input</c> of shape batch x C x H x W with a dynamic
/// batch dimension, one output <c>logits</c> of shape batch x classes, opset <see cref="Opset"/>. It computes the
/// eval-mode forward pass: batch norms folded into the convolutions before them, dropout omitted, ReLU6 as Clip(0, 6),
/// auxiliary classifiers left out. The model is only read: neither its weights nor its train/eval mode change.
/// </summary>
public static class OnnxExport
{
    /// <summary>
    /// ONNX opset 17: it defines every operator the exporter writes as later opsets do for float32, and ONNX Runtime
    /// reads it from release 1.12 on, so the file also runs in older deployments (and in ML.NET) as well as in 1.31.
    /// </summary>
    public const int Opset = 17;

    /// <summary>The IR version that goes with opset 17.</summary>
    const long IrVersion = 8;

    public const string InputName = "input";
    public const string OutputName = "logits";

    /// <summary>The output of a body-only export (<see cref="OnnxExportOptions.FeaturesOnly"/>).</summary>
    public const string FeaturesName = "features";

    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/> (atomically: a failed export leaves no partial file).</summary>
    public static void Export(ZooModel model, string path, OnnxExportOptions? options = null)
    {
        var proto = ToModelProto(model, options);
        AtomicFile.Write(path, stream => proto.WriteTo(stream));
    }

    /// <summary>The ONNX file's bytes, for an in-memory session (<see cref="OnnxRuntimeModel"/>).</summary>
    public static byte[] ToBytes(ZooModel model, OnnxExportOptions? options = null) => ToModelProto(model, options).ToByteArray();

    /// <summary>The ONNX model as OnnxSharp's protobuf types.</summary>
    /// <exception cref="ArgumentException">The input size or the options do not fit the model.</exception>
    /// <exception cref="NotSupportedException">The model contains a family or layer the exporter does not know.</exception>
    public static ModelProto ToModelProto(ZooModel model, OnnxExportOptions? options = null)
    {
        options ??= new OnnxExportOptions();
        using var safety = NativeSafety.Hold();
        var input = model.Input;
        int height = options.Height ?? options.Preprocessing?.CropSize ?? input.Height;
        int width = options.Width ?? options.Preprocessing?.CropSize ?? input.Width;
        using (var probe = empty(0, input.Channels, height, width))
        {
            try { input.Validate(probe, model.GetName()); }
            catch (ArgumentException e) { throw new InvalidChoiceException($"export size: {e.Message}", e); }   // the caller's size
        }
        var classes = options.ClassNames ?? [.. Enumerable.Range(0, model.NumClasses).Select(i => i.ToString(CultureInfo.InvariantCulture))];
        if (classes.Count != model.NumClasses)
            throw new InvalidChoiceException($"{model.GetName()} has {model.NumClasses} classes; {classes.Count} class names were given");
        var preprocessing = options.Preprocessing
                            ?? new Preprocessing(Math.Min(height, width), Math.Min(height, width), [.. Enumerable.Repeat(0.0, input.Channels)],
                                                 [.. Enumerable.Repeat(1.0, input.Channels)]);
        if (preprocessing.Mean.Count != input.Channels)
            throw new InvalidChoiceException($"{model.GetName()} takes {input.Channels} channel(s); the preprocessing has " +
                                        $"{preprocessing.Mean.Count} mean and {preprocessing.Std.Count} std value(s)");
        if (preprocessing.CropSize != height || preprocessing.CropSize != width)
            throw new InvalidChoiceException($"the preprocessing crops {preprocessing.CropSize} x {preprocessing.CropSize}, but the graph is " +
                                        $"exported for {height} x {width} inputs; give one size");

        var graph = new OnnxGraphBuilder(model.GetName());
        using (no_grad())
        {
            string x = graph.Input(InputName, [input.Channels, height, width]);
            string output = OnnxModelWriter.Write(new OnnxLayerWriter(graph), graph, model, x, options.FeaturesOnly);
            long[] shape = graph.Shape(output);
            bool expected = options.FeaturesOnly
                ? shape.Length == 4 && shape[1] == model.NumFeatures
                : shape.Length == 2 && shape[1] == model.NumClasses;
            if (!expected)
                throw new InvalidOperationException($"{model.GetName()}: the exported graph ends in [{string.Join(", ", shape)}], not batch x " +
                                                    (options.FeaturesOnly ? $"{model.NumFeatures} x h x w" : $"{model.NumClasses}"));
            graph.Output(output, options.FeaturesOnly ? FeaturesName : OutputName);
        }

        var proto = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "Cnn.Zoo",
            ProducerVersion = typeof(OnnxExport).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "",
            DocString = $"{model.GetName()} from Cnn.Zoo, eval mode, batch norms folded: {InputName} batch x {input.Channels} x {height} x {width} " +
                        (options.FeaturesOnly ? $"float32, {FeaturesName} (the body's output) batch x {model.NumFeatures} x h x w."
                                              : $"float32, {OutputName} batch x {model.NumClasses}."),
            Graph = graph.Graph,
        };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        void Metadata(string key, string value) => proto.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        Metadata(OnnxMetadataKeys.Model, model.GetName());
        Metadata(OnnxMetadataKeys.Classes, JsonSerializer.Serialize(classes));
        if (input.Channels is 1 or 3) Metadata(OnnxMetadataKeys.Color, input.Channels == 3 ? "rgb" : "grey");
        Metadata(OnnxMetadataKeys.Resize, preprocessing.ResizeSize.ToString(CultureInfo.InvariantCulture));
        if (preprocessing.PadSmallSquares) Metadata(OnnxMetadataKeys.PadSmallSquares, "true");
        Metadata(OnnxMetadataKeys.Interpolation, preprocessing.Interpolation);
        Metadata(OnnxMetadataKeys.Crop, JsonSerializer.Serialize(new[] { height, width }));
        Metadata(OnnxMetadataKeys.Mean, JsonSerializer.Serialize(preprocessing.Mean));
        Metadata(OnnxMetadataKeys.Std, JsonSerializer.Serialize(preprocessing.Std));
        return proto;
    }
}
