using System.CommandLine;
using Cnn.Zoo.Inference;

namespace Cnn.Training.Cli;

/// <summary>
/// <c>--precision auto|fp32|bf16</c> for the verbs that run an inference-optimised model (predict, eval, explain,
/// bench): auto runs bfloat16 only where the CPU computes it natively (<see cref="PrecisionChoice.Resolve"/>).
/// </summary>
public static class PrecisionOption
{
    public static Option<string> Create(string description = "number format of the optimised model: auto is bf16 where the CPU has native bf16 (AVX512_BF16 or AMX) and images are 64x64 or larger, fp32 elsewhere")
        => CliOptions.OneOf("--precision", "auto", description, "auto", "fp32", "bf16");

    /// <summary>The option's value as the library's enum.</summary>
    public static InferencePrecision Value(ParseResult parse, Option<string> option) => parse.GetValue(option) switch
    {
        "fp32" => InferencePrecision.Float32,
        "bf16" => InferencePrecision.BFloat16,
        _ => InferencePrecision.Auto,
    };

    /// <summary>The line a verb prints once the model is prepared, e.g. "Precision: bf16 (auto: bf16, because ...)".</summary>
    public static string Describe(InferenceModel model) => $"Precision: {model.Precision.ShortName} ({model.Precision.Reason})";
}
