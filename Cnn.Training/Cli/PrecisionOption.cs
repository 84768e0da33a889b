using System.CommandLine;
using Cnn.Zoo.Inference;

namespace Cnn.Training.Cli;

/// <summary>
/// <c>--precision auto|fp32|bf16</c> for the verbs that run an inference-optimised model (predict, eval, explain,
/// bench). fp32 is the default on every machine; auto runs bfloat16 only where the CPU computes it natively
/// (<see cref="PrecisionChoice.Resolve"/>) and it agrees with fp32 on the user's images (<see cref="PrecisionCalibration"/>).
/// </summary>
public static class PrecisionOption
{
    public static Option<string> Create(string description = "number format of the optimised model: fp32; bf16; or auto, which is bf16 only where the CPU has native bf16 (AVX512_BF16 or AMX), images are 64x64 or larger, and bf16 agrees with fp32 on your first images (top-1 on every one, logits within 3%)",
                                        string defaultValue = "fp32")
        => CliOptions.OneOf("--precision", defaultValue, description, "fp32", "auto", "bf16");

    /// <summary>The option's value as the library's enum.</summary>
    public static InferencePrecision Value(ParseResult parse, Option<string> option) => parse.GetValue(option) switch
    {
        "auto" => InferencePrecision.Auto,
        "bf16" => InferencePrecision.BFloat16,
        _ => InferencePrecision.Float32,
    };

    /// <summary>The line a verb prints once the model is prepared, e.g. "Precision: bf16 (auto: bf16, because ...)".</summary>
    public static string Describe(InferenceModel model) => $"Precision: {model.Precision.ShortName} ({model.Precision.Reason})";
}
