using System.Globalization;

namespace Cnn.Zoo;

/// <summary>
/// Named options for building a model (<c>width=0.5</c>, <c>activation=relu</c>), as a command line or config gives
/// them. A factory reads the options it understands; the registry then rejects any option nobody read, so no
/// argument is silently ignored.
/// </summary>
public sealed class ModelOptions
{
    readonly Dictionary<string, string> values = new(StringComparer.OrdinalIgnoreCase);
    readonly HashSet<string> read = new(StringComparer.OrdinalIgnoreCase);
    readonly List<string> known = [];

    public ModelOptions(IEnumerable<KeyValuePair<string, string>>? values = null)
    {
        foreach (var (key, value) in values ?? []) this.values[key] = value;
    }

    /// <summary>Parses <c>key=value</c> items.</summary>
    public static ModelOptions Parse(IEnumerable<string> items)
    {
        var options = new ModelOptions();
        foreach (string item in items)
        {
            int eq = item.IndexOf('=');
            if (eq <= 0) throw new InvalidChoiceException($"expected a model option as key=value; found '{item}'");
            options.values[item[..eq].Trim()] = item[(eq + 1)..].Trim();
        }
        return options;
    }

    public static ModelOptions None => new();

    /// <summary>The options as given, e.g. to store in a checkpoint.</summary>
    public Dictionary<string, string> ToDictionary() => new(values, StringComparer.OrdinalIgnoreCase);

    public ModelOptions With(string key, object value)
    {
        values[key] = Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
        return this;
    }

    /// <summary>The option's value, or <paramref name="fallback"/> when it was not given.</summary>
    public T Get<T>(string key, T fallback, string help = "")
    {
        known.Add(string.IsNullOrEmpty(help) ? $"{key} (default {fallback})" : $"{key}: {help} (default {fallback})");
        read.Add(key);
        if (!values.TryGetValue(key, out string? text)) return fallback;
        try
        {
            Type type = typeof(T);
            if (type.IsEnum) return (T)Enum.Parse(type, text, ignoreCase: true);
            if (type == typeof(bool)) return (T)(object)ParseBool(text);
            if (type == typeof(int[]))
                return (T)(object)text.Split(',', ';', 'x').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            return (T)Convert.ChangeType(text, type, CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or OverflowException or InvalidCastException)
        {
            string allowed = typeof(T).IsEnum ? $" (one of {string.Join(", ", Enum.GetNames(typeof(T)))})" : "";
            throw new InvalidChoiceException($"option {key}: expected a {typeof(T).Name}{allowed}; found '{text}'", e);
        }
    }

    static bool ParseBool(string text) => text.ToLowerInvariant() switch
    {
        "true" or "1" or "yes" or "on" => true,
        "false" or "0" or "no" or "off" => false,
        _ => throw new FormatException(),
    };

    /// <summary>Throws when an option was given that the model's factory did not read.</summary>
    public void EnsureAllRead(string model)
    {
        var unread = values.Keys.Where(k => !read.Contains(k)).ToList();
        if (unread.Count == 0) return;
        string supported = known.Count == 0 ? "none" : string.Join("; ", known);
        throw new InvalidChoiceException($"{model} does not take option(s) {string.Join(", ", unread)}; it supports: {supported}");
    }
}
