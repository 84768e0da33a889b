using Cnn.Zoo;
using Cnn.Zoo.Models;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Onnx;

/// <summary>
/// An ONNX model running in ONNX Runtime, behind the same face as any TorchSharp module: <c>call(x)</c> takes an
/// N x C x H x W float batch and returns the N x classes logits, so evaluation, prediction and benchmark code can use
/// it in place of the zoo model. Built from a zoo model (exported in memory) or from an .onnx file. Inference only:
/// <c>train()</c> throws. Inputs on another device or in another dtype or layout are converted; the output comes back
/// on the input's device as float32.
/// </summary>
public sealed class OnnxRuntimeModel : nn.Module<Tensor, Tensor>
{
    readonly InferenceSession session;
    readonly RunOptions runOptions = new();
    readonly string inputName;
    readonly string outputName;
    readonly string source;

    OnnxRuntimeModel(InferenceSession session, string source) : base("onnxruntime")
    {
        this.session = session;
        this.source = source;
        if (session.InputNames.Count != 1 || session.OutputNames.Count != 1)
            throw new InvalidChoiceException($"{source}: expected a graph with one input and one output; it has inputs " +
                                        $"[{string.Join(", ", session.InputNames)}] and outputs [{string.Join(", ", session.OutputNames)}]");
        inputName = session.InputNames[0];
        outputName = session.OutputNames[0];
        InputShape = [.. session.InputMetadata[inputName].Dimensions.Select(d => (long)d)];
        base.train(false);
    }

    /// <summary>Exports <paramref name="model"/> in memory (<see cref="OnnxExport"/>) and opens a session on it.</summary>
    public static OnnxRuntimeModel Create(ZooModel model, OnnxRuntimeOptions? runtime = null, OnnxExportOptions? export = null)
        => new(new InferenceSession(OnnxExport.ToBytes(model, export), SessionOptions(runtime)), model.GetName());

    /// <summary>Opens an .onnx file (from <see cref="OnnxExport"/> or any exporter with one input and one output).</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">ONNX Runtime cannot read the file as a model.</exception>
    public static OnnxRuntimeModel Load(string path, OnnxRuntimeOptions? runtime = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"ONNX model not found: {path}", path);
        try
        {
            return new(new InferenceSession(path, SessionOptions(runtime)), path);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException($"{path}: ONNX Runtime cannot load it as a model ({e.Message}); export it again with `cnnzoo export`", e);
        }
    }

    static SessionOptions SessionOptions(OnnxRuntimeOptions? runtime)
    {
        runtime ??= new OnnxRuntimeOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(runtime.Threads, nameof(runtime.Threads));
        // One request at a time, so every thread goes to the operators (intra-op), none to running nodes in parallel.
        return new SessionOptions
        {
            GraphOptimizationLevel = runtime.Optimization,
            IntraOpNumThreads = runtime.Threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
    }

    /// <summary>The input's shape as the graph declares it; -1 marks a dynamic dimension (the batch).</summary>
    public IReadOnlyList<long> InputShape { get; }

    /// <summary>The file's <c>metadata_props</c> (see <see cref="OnnxMetadataKeys"/> for what the exporter writes).</summary>
    public IReadOnlyDictionary<string, string> Metadata => session.ModelMetadata.CustomMetadataMap;

    public override Tensor forward(Tensor x)
    {
        bool fits = x.dim() == InputShape.Count && x.shape.Zip(InputShape).All(p => p.Second < 0 || p.First == p.Second);
        if (!fits)
            throw new ArgumentException($"{source} expects [{string.Join(", ", InputShape.Select(d => d < 0 ? "N" : d.ToString()))}]; " +
                                        $"found [{string.Join(", ", x.shape)}]");
        float[] data;
        using (var dense = x.detach().cpu().to_type(ScalarType.Float32).contiguous()) data = dense.data<float>().ToArray();
        using var input = OrtValue.CreateTensorValueFromMemory(data, x.shape);
        using var outputs = session.Run(runOptions, [inputName], [input], [outputName]);
        var output = outputs[0];
        long[] shape = output.GetTensorTypeAndShape().Shape;
        using var result = empty(shape, ScalarType.Float32);
        result.data<float>().CopyFrom(output.GetTensorDataAsSpan<float>(), 0, 0);
        return result.to(x.device);
    }

    public override void train(bool on = true)
    {
        if (on) throw new InvalidOperationException($"{source} runs in ONNX Runtime for inference only and cannot be trained");
        base.train(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            session.Dispose();
            runOptions.Dispose();
        }
        base.Dispose(disposing);
    }
}
