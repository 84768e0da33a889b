using Cnn.Zoo.Inference;

namespace Cnn.Training.Benchmarks;

/// <summary>What the benchmark measures and how long it tries.</summary>
/// <param name="Precision">Which reduced precision the inference section measures beside float32: Auto measures bf16
/// for the models <see cref="PrecisionChoice.Resolve"/> would run in bf16 on this CPU, BFloat16 for every model,
/// Float32 for none.</param>
public sealed record BenchSettings(IReadOnlyList<BenchModel> Models, int Batch, int Threads, int Repeats, int Warmup,
                                   double SampleSeconds, int MemorySteps, bool Training, bool Loader, bool Memory,
                                   InferencePrecision Precision = InferencePrecision.Auto);
