namespace Cnn.Training.Cli;

/// <summary>What runs a trained model in eval and predict (<c>--backend</c>).</summary>
public enum InferenceBackend
{
    /// <summary>The zoo model in libtorch, optimised for inference (batch norms folded, channels-last, inference mode).</summary>
    Torch,
    /// <summary>The model exported to ONNX in memory and run in an ONNX Runtime session tuned for the CPU.</summary>
    OnnxRuntime,
}
