namespace Cnn.Training.Benchmarks;

/// <summary>One measured figure. Ratio is against the section's reference (TorchSharp's TorchVision port, or LeNet-5 training for the loader).</summary>
public sealed record BenchRow(string Section, string Model, string Variant, int Batch, double ImagesPerSecond, double? Ratio,
                              double? GigaFlopsPerSecond, double? FractionOfMatmul, string Note = "");
