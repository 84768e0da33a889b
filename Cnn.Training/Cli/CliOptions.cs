using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Cnn.Training.Cli;

/// <summary>
/// Typed System.CommandLine options with the project's messages: a bad value says what was expected and what was
/// found (<c>--epochs: expected an integer &gt;= 1; found 'many'</c>), enums are written in lower case, and help shows
/// the default and the allowed values.
/// </summary>
public static class CliOptions
{
    /// <summary><c>--train-per-class</c> of train, finetune and handoff (<see cref="Data.DataSetup.LoadForTraining"/>).</summary>
    public static Option<int> TrainPerClass()
        => Int("--train-per-class", 0, "use only this many training images per class, chosen by --seed (0: all)", 0);

    public static Option<int> Int(string name, int fallback, string description, int min = int.MinValue)
        => new(name)
        {
            Description = description,
            DefaultValueFactory = _ => fallback,
            CustomParser = r => ParseInt(r, name, min) ?? fallback,
            HelpName = "int",
        };

    /// <summary>An integer whose default depends on something else (the model's recipe); null when not given.</summary>
    public static Option<int?> OptionalInt(string name, string description, int min = int.MinValue)
        => new(name) { Description = description, CustomParser = r => ParseInt(r, name, min), HelpName = "int" };

    public static Option<double> Double(string name, double fallback, string description, double min = double.NegativeInfinity)
        => new(name)
        {
            Description = description,
            DefaultValueFactory = _ => fallback,
            CustomParser = r => ParseDouble(r, name, min) ?? fallback,
            HelpName = "number",
        };

    public static Option<double?> OptionalDouble(string name, string description, double min = double.NegativeInfinity)
        => new(name) { Description = description, CustomParser = r => ParseDouble(r, name, min), HelpName = "number" };

    /// <summary>An enum option written in lower case (<c>--schedule onecycle</c>); dashes are ignored.</summary>
    public static Option<T> Choice<T>(string name, T fallback, string description) where T : struct, Enum
        => new(name)
        {
            Description = description,
            DefaultValueFactory = _ => fallback,
            CustomParser = r => ParseEnum<T>(r, name) ?? fallback,
            HelpName = string.Join('|', Names<T>()),
            CompletionSources = { Names<T>() },
        };

    /// <summary>An enum option whose default depends on something else; null when not given.</summary>
    public static Option<T?> OptionalChoice<T>(string name, string description) where T : struct, Enum
        => new(name)
        {
            Description = description,
            CustomParser = r => ParseEnum<T>(r, name),
            HelpName = string.Join('|', Names<T>()),
            CompletionSources = { Names<T>() },
        };

    /// <summary>A string that must be one of <paramref name="allowed"/>.</summary>
    public static Option<string> OneOf(string name, string fallback, string description, params string[] allowed)
        => new(name)
        {
            Description = description,
            DefaultValueFactory = _ => fallback,
            CustomParser = r =>
            {
                string text = r.Tokens.Single().Value;
                if (allowed.Contains(text, StringComparer.OrdinalIgnoreCase)) return text.ToLowerInvariant();
                r.AddError($"{name}: expected {Either(allowed)}; found '{text}'");
                return fallback;
            },
            HelpName = string.Join('|', allowed),
            CompletionSources = { allowed },
        };

    public static Option<bool> Flag(string name, string description) => new(name) { Description = description, Arity = ArgumentArity.Zero };

    public static Option<string> Text(string name, string fallback, string description, string helpName)
        => new(name) { Description = description, DefaultValueFactory = _ => fallback, HelpName = helpName };

    public static Option<string?> OptionalText(string name, string description, string helpName)
        => new(name) { Description = description, HelpName = helpName };

    /// <summary>An option that may be given several times (<c>--opt a=1 --opt b=2</c>).</summary>
    public static Option<string[]> Repeatable(string name, string description, string helpName)
        => new(name)
        {
            Description = description + " (repeatable)",
            DefaultValueFactory = _ => [],
            HelpName = helpName,
            Arity = ArgumentArity.OneOrMore,
            AllowMultipleArgumentsPerToken = false,
        };

    /// <summary>The value the user typed, or null when the option was left at its default.</summary>
    public static T? Given<T>(this ParseResult parse, Option<T> option)
        => parse.GetResult(option) is { Implicit: false } ? parse.GetValue(option) : default;

    /// <summary>Whether the user typed the option.</summary>
    public static bool WasGiven(this ParseResult parse, Option option) => parse.GetResult(option) is { Implicit: false };

    /// <summary>"a, b or c".</summary>
    public static string Either(IReadOnlyList<string> names)
        => names.Count == 1 ? names[0] : string.Join(", ", names.Take(names.Count - 1)) + " or " + names[^1];

    static string[] Names<T>() where T : struct, Enum => Enum.GetNames<T>().Select(n => n.ToLowerInvariant()).ToArray();

    static int? ParseInt(ArgumentResult r, string name, int min)
    {
        string text = r.Tokens.Single().Value;
        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= min) return value;
        r.AddError($"{name}: expected an integer{(min > int.MinValue ? $" >= {min}" : "")}; found '{text}'");
        return null;
    }

    static double? ParseDouble(ArgumentResult r, string name, double min)
    {
        string text = r.Tokens.Single().Value;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && value >= min) return value;
        r.AddError($"{name}: expected a number{(min > double.NegativeInfinity ? $" >= {min}" : "")}; found '{text}'");
        return null;
    }

    static T? ParseEnum<T>(ArgumentResult r, string name) where T : struct, Enum
    {
        string text = r.Tokens.Single().Value;
        if (Enum.TryParse(text.Replace("-", ""), ignoreCase: true, out T value) && Enum.IsDefined(value)) return value;
        r.AddError($"{name}: expected one of {string.Join(", ", Names<T>())}; found '{text}'");
        return null;
    }
}
