using Microsoft.ML.OnnxRuntime;

namespace Cnn.Onnx;

/// <summary>How <see cref="OnnxRuntimeModel"/> sets up its ONNX Runtime session for the CPU.</summary>
/// <param name="Threads">Intra-op threads (one operator split across them); 0 lets ONNX Runtime use one per physical core.</param>
/// <param name="Optimization">Graph optimisation level; the default applies all of ONNX Runtime's rewrites (operator
/// fusions, layout transformations), which is what makes it fast.</param>
public sealed record OnnxRuntimeOptions(int Threads = 0, GraphOptimizationLevel Optimization = GraphOptimizationLevel.ORT_ENABLE_ALL);
