namespace Cnn.Zoo.Inference;

/// <summary>The number format an <see cref="InferenceModel"/> computes in. Inputs and outputs stay float32 either way.</summary>
public enum InferencePrecision
{
    /// <summary>
    /// bfloat16 where the CPU computes it natively (<see cref="CpuCapabilities.NativeBFloat16"/>), oneDNN can trust
    /// its kernels, and calibration images prove it for the model at hand (<see cref="PrecisionCalibration"/>);
    /// float32 everywhere else. Never a default: the caller chooses it.
    /// </summary>
    Auto,
    /// <summary>Single precision: the outputs equal the plain model's to float rounding.</summary>
    Float32,
    /// <summary>
    /// bfloat16 weights and activations (float32's 8-bit exponent, 8 significant bits), even where the CPU only
    /// emulates it. libtorch's oneDNN kernels accumulate in float32.
    /// </summary>
    BFloat16,
}
