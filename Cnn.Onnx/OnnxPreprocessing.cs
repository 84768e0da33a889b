namespace Cnn.Onnx;

/// <summary>
/// How an image becomes the exported graph's input, recorded in the file so a consumer knows how to feed it: resize
/// so the shorter side is <paramref name="Resize"/> pixels, take the central crop of the graph's input size, scale
/// pixels to [0, 1], then subtract <paramref name="Mean"/> and divide by <paramref name="Std"/> per channel.
/// </summary>
/// <param name="Resize">Shorter side after resizing, before the crop (the crop size itself when no resize is needed).</param>
/// <param name="Mean">Per-channel mean of the normalisation, one value per input channel.</param>
/// <param name="Std">Per-channel standard deviation of the normalisation.</param>
public sealed record OnnxPreprocessing(int Resize, IReadOnlyList<float> Mean, IReadOnlyList<float> Std);
