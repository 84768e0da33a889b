using System.Globalization;
using static TorchSharp.torch;

namespace Cnn.Zoo.Inference;

/// <summary>
/// The proof <c>auto</c> asks of bfloat16 before using it for a model: on calibration images, the bf16 model's top-1
/// class equals float32's for every image, and no logit moves by more than <see cref="Tolerance"/> of the largest
/// float32 logit. bf16 keeps 8 significant bits; how far that carries through a network depends on the network and
/// on the CPU's kernels (MobileNetV2 was measured 36% off on a Zen 4 whose kernels are otherwise right), so it is
/// checked per model on the machine at hand instead of assumed.
/// </summary>
/// <param name="Images">Calibration images compared.</param>
/// <param name="TopOneChanged">Images whose top-1 class differs between bf16 and fp32.</param>
/// <param name="LogitError">Largest |bf16 - fp32| logit as a fraction of the largest |fp32| logit.</param>
/// <param name="Tolerance">The largest <see cref="LogitError"/> accepted.</param>
public sealed record PrecisionCalibration(int Images, int TopOneChanged, double LogitError, double Tolerance)
{
    /// <summary>
    /// 3% of the logit scale: measured bf16 errors of healthy kernels are 0.6-1.4% across the zoo (deterministic
    /// weights, 64x64), while a broken kernel or a model bf16 does not suit is off by tens of percent.
    /// </summary>
    public const double DefaultTolerance = 0.03;

    /// <summary>Whether bf16 may be used: every top-1 agrees and the logits stay within the tolerance.</summary>
    public bool Passed => TopOneChanged == 0 && LogitError <= Tolerance;

    /// <summary>Compares <paramref name="bf16"/> logits with the <paramref name="fp32"/> ones of the same images.</summary>
    public static PrecisionCalibration Judge(Tensor fp32, Tensor bf16, double tolerance = DefaultTolerance)
    {
        if (!fp32.shape.SequenceEqual(bf16.shape) || fp32.dim() != 2)
            throw new ArgumentException($"expected two N x classes logit tensors of one shape; found [{string.Join(", ", fp32.shape)}] and [{string.Join(", ", bf16.shape)}]");
        using var scope = NewDisposeScope();
        var reference = fp32.to(ScalarType.Float32);
        var actual = bf16.to(ScalarType.Float32);
        double scale = Math.Max(reference.abs().max().item<float>(), 1e-12);
        double error = (actual - reference).abs().max().item<float>() / scale;
        long changed = actual.argmax(1).ne(reference.argmax(1)).sum().item<long>();
        return new PrecisionCalibration((int)fp32.shape[0], (int)changed, double.IsFinite(error) ? error : double.PositiveInfinity, tolerance);
    }

    /// <summary>E.g. "top-1 agrees on 8 of 8 calibration images, logits within 0.9% of the fp32 scale (allowed 3%)".</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"top-1 {(TopOneChanged == 0 ? "agrees on" : "changed on")} {(TopOneChanged == 0 ? Images : TopOneChanged)} of {Images} " +
        $"calibration images, logits within {100 * LogitError:0.#}% of the fp32 scale (allowed {100 * Tolerance:0.#}%)");
}
