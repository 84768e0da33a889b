using System.CommandLine;
using Cnn.Onnx;
using Cnn.Zoo.Inference;
using Cnn.Zoo.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Training.Cli;

/// <summary><c>--backend torch|onnxruntime</c> for the verbs that run a trained model (eval, predict).</summary>
public static class BackendOption
{
    public static Option<InferenceBackend> Create()
        => CliOptions.Choice("--backend", InferenceBackend.Torch,
                             "torch (the optimised zoo model) or onnxruntime (exported to ONNX in memory, run in ONNX Runtime with --threads)");

    /// <summary>
    /// The model ready for inference on <paramref name="size"/> x <paramref name="size"/> inputs: optimised in place for
    /// libtorch, or exported and opened in ONNX Runtime with libtorch's thread count (what <c>--threads</c> set).
    /// </summary>
    public static nn.Module<Tensor, Tensor> Prepare(InferenceBackend backend, ZooModel trained, int size) => backend switch
    {
        InferenceBackend.OnnxRuntime => OnnxRuntimeModel.Create(trained, new OnnxRuntimeOptions(Threads: torch.get_num_threads()),
                                                                new OnnxExportOptions(size, size)),
        _ => InferenceModel.Optimize(trained),
    };
}
