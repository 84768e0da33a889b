using Cnn.Zoo.Models;

namespace Cnn.Zoo.Inference;

/// <summary>The precision an <see cref="InferenceModel"/> runs in, and why, in words a command line can print.</summary>
/// <param name="Precision">Float32 or BFloat16, never Auto.</param>
public sealed record PrecisionChoice(InferencePrecision Precision, string Reason)
{
    /// <summary>
    /// Resolves <paramref name="requested"/> for a model taking <paramref name="input"/> on <paramref name="cpu"/>.
    /// Auto picks bfloat16 only where the CPU computes it natively, describes its caches (oneDNN's kernels need them;
    /// see <see cref="CpuCapabilities.CacheTopology"/>), and the model's standard images are at least 64 x 64
    /// (<see cref="MemoryFormat.ChannelsLastPays"/>): bfloat16 pays in oneDNN's large convolution kernels, while for
    /// LeNet-5's 32 x 32 digits the casts cost more than they save (measured: 0.5-0.8x of fp32's images/s). Where it
    /// picks bf16, that is only a candidate: <see cref="InferenceModel.Optimize"/> still proves it on calibration images.
    /// </summary>
    public static PrecisionChoice Resolve(InferencePrecision requested, CpuCapabilities cpu, InputSpec input, bool onCpu = true)
    {
        bool large = MemoryFormat.ChannelsLastPays(input.Height, input.Width);
        return requested switch
        {
            InferencePrecision.Float32 => new(InferencePrecision.Float32, "fp32 as requested"),
            InferencePrecision.BFloat16 when onCpu && !cpu.NativeBFloat16 => new(InferencePrecision.BFloat16,
                $"bf16 as requested, although this CPU only emulates it ({cpu}): expect it to be slower than fp32"),
            InferencePrecision.BFloat16 when onCpu && !cpu.CacheTopology => new(InferencePrecision.BFloat16,
                $"bf16 as requested, although this CPU describes no caches in CPUID ({cpu}): oneDNN's bf16 kernels may " +
                "return wrong values or crash here"),
            InferencePrecision.BFloat16 => new(InferencePrecision.BFloat16, "bf16 as requested"),
            _ when !onCpu => new(InferencePrecision.Float32, "auto: fp32, because auto chooses bf16 only on CPUs"),
            _ when !cpu.NativeBFloat16 => new(InferencePrecision.Float32,
                $"auto: fp32, because this CPU has no native bf16 ({cpu}) and emulated bf16 is slower"),
            _ when !cpu.CacheTopology => new(InferencePrecision.Float32,
                $"auto: fp32, because this CPU describes no caches in CPUID ({cpu}), as some virtual machines do, and " +
                "oneDNN's bf16 kernels then return wrong values or crash"),
            _ when !large => new(InferencePrecision.Float32,
                $"auto: fp32, because {input.Height}x{input.Width} images are too small for bf16 to pay (it does from 64x64)"),
            _ => new(InferencePrecision.BFloat16, $"auto: bf16 if calibration proves it, because this CPU computes it natively ({cpu})"),
        };
    }

    /// <summary>"fp32" or "bf16".</summary>
    public string ShortName => Precision == InferencePrecision.BFloat16 ? "bf16" : "fp32";

    public override string ToString() => Reason;
}
