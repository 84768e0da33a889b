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
    /// libtorch in <paramref name="precision"/> (the choice and its reason are printed), or exported and opened in ONNX
    /// Runtime with libtorch's thread count (what <c>--threads</c> set), which runs the float32 export. With
    /// <c>auto</c>, bf16 must pass its check on <paramref name="calibration"/> (the user's own images, preprocessed),
    /// made only where the CPU qualifies.
    /// </summary>
    public static nn.Module<Tensor, Tensor> Prepare(InferenceBackend backend, ZooModel trained, int size,
                                                    InferencePrecision precision, Func<Tensor> calibration)
    {
        if (backend == InferenceBackend.OnnxRuntime)
        {
            if (precision != InferencePrecision.Float32)
                throw new UsageException("--precision applies to --backend torch; ONNX Runtime runs the float32 export");
            return OnnxRuntimeModel.Create(trained, new OnnxRuntimeOptions(Threads: torch.get_num_threads()), new OnnxExportOptions(size, size));
        }
        bool mayPickBf16 = precision == InferencePrecision.Auto
                           && PrecisionChoice.Resolve(precision, CpuCapabilities.Current, trained.Input).Precision == InferencePrecision.BFloat16;
        using var images = mayPickBf16 ? calibration() : null;
        var optimized = InferenceModel.Optimize(trained, new InferenceOptions(Precision: precision, Calibration: images));
        Console.WriteLine(PrecisionOption.Describe(optimized));
        return optimized;
    }
}
