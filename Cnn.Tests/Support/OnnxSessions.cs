using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;

namespace Cnn.Tests.Support;

/// <summary>ONNX Runtime as the tests use it: sessions with every graph optimisation on, and one run of a tensor.</summary>
internal static class OnnxSessions
{
    /// <summary>A session with every graph optimisation ONNX Runtime has (what a deployment gets), on two threads.</summary>
    public static InferenceSession FullyOptimised(byte[] onnx)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = 2 };
        return new InferenceSession(onnx, options);
    }

    /// <summary>The session's first output for <paramref name="x"/> (float32) fed to its first input.</summary>
    public static float[] Run(InferenceSession session, Tensor x)
    {
        float[] data = x.contiguous().to_type(ScalarType.Float32).data<float>().ToArray();
        using var value = OrtValue.CreateTensorValueFromMemory(data, x.shape);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [session.InputNames[0]], [value], [session.OutputNames[0]]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }
}
