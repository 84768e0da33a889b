using System.Globalization;

namespace Cnn.Training.Cli;

/// <summary>A wrong command line: the message says what was allowed and what was found.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>
/// Parsed <c>--name value</c> options, <c>--flag</c>s and positional arguments of one verb. Each verb declares the
/// options it reads; anything else is reported with the list of allowed options.
/// </summary>
public sealed class Args
{
    readonly Dictionary<string, List<string>> options = new(StringComparer.Ordinal);
    readonly HashSet<string> used = [];
    readonly List<(string Name, string Help)> declared = [];

    public Args(string verb, IEnumerable<string> arguments)
    {
        Verb = verb;
        var list = arguments.ToList();
        for (int i = 0; i < list.Count; i++)
        {
            string a = list[i];
            if (a.StartsWith("--", StringComparison.Ordinal) && a.Length > 2)
            {
                string name = a[2..];
                string? value = null;
                int eq = name.IndexOf('=');
                if (eq > 0) { value = name[(eq + 1)..]; name = name[..eq]; }
                else if (i + 1 < list.Count && !list[i + 1].StartsWith("--", StringComparison.Ordinal)) value = list[++i];
                if (!options.TryGetValue(name, out var values)) options[name] = values = [];
                values.Add(value ?? "true");
            }
            else Positional.Add(a);
        }
    }

    public string Verb { get; }
    public List<string> Positional { get; } = [];
    public bool Help => options.ContainsKey("help") || options.ContainsKey("h");
    public IReadOnlyList<(string Name, string Help)> Declared => declared;

    public bool Has(string name) => options.ContainsKey(name);

    public string? String(string name, string? fallback, string help)
    {
        declared.Add((name, help + (fallback is null ? "" : $" (default {fallback})")));
        used.Add(name);
        return options.TryGetValue(name, out var v) ? v[^1] : fallback;
    }

    public IReadOnlyList<string> All(string name, string help)
    {
        declared.Add((name, help + " (repeatable)"));
        used.Add(name);
        return options.TryGetValue(name, out var v) ? v : [];
    }

    public bool Flag(string name, string help)
    {
        declared.Add((name, help));
        used.Add(name);
        return options.TryGetValue(name, out var v) && v[^1] is "true" or "1" or "yes";
    }

    public int Int(string name, int fallback, string help, int min = int.MinValue)
    {
        string? text = String(name, fallback.ToString(CultureInfo.InvariantCulture), help);
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value < min)
            throw new UsageException($"--{name}: expected an integer{(min > int.MinValue ? $" >= {min}" : "")}; found '{text}'");
        return value;
    }

    public double Double(string name, double fallback, string help, double min = double.NegativeInfinity)
    {
        string? text = String(name, fallback.ToString(CultureInfo.InvariantCulture), help);
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || value < min)
            throw new UsageException($"--{name}: expected a number{(min > double.NegativeInfinity ? $" >= {min}" : "")}; found '{text}'");
        return value;
    }

    public double? OptionalDouble(string name, string help)
    {
        string? text = String(name, null, help);
        if (text is null) return null;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
            throw new UsageException($"--{name}: expected a number; found '{text}'");
        return value;
    }

    public T Enum<T>(string name, T fallback, string help) where T : struct, System.Enum
    {
        string allowed = string.Join(", ", System.Enum.GetNames<T>().Select(n => n.ToLowerInvariant()));
        string? text = String(name, fallback.ToString().ToLowerInvariant(), $"{help}: {allowed}");
        if (!System.Enum.TryParse(text?.Replace("-", ""), ignoreCase: true, out T value))
            throw new UsageException($"--{name}: expected one of {allowed}; found '{text}'");
        return value;
    }

    /// <summary>Call after reading every option: an option the verb does not know is an error listing the allowed ones.</summary>
    public void EnsureNoUnknown()
    {
        var unknown = options.Keys.Where(k => !used.Contains(k) && k is not "help" and not "h").ToList();
        if (unknown.Count > 0)
            throw new UsageException($"'{Verb}' does not take --{string.Join(", --", unknown)}. Allowed: " +
                                     string.Join(", ", declared.Select(d => "--" + d.Name).Distinct()));
    }

    public string Usage(string synopsis)
        => $"usage: cnnzoo {synopsis}\n\noptions:\n" +
           string.Join("\n", declared.DistinctBy(d => d.Name).Select(d => $"  --{d.Name,-22} {d.Help}"));
}
