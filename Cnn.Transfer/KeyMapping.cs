using Cnn.Zoo;
using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace Cnn.Transfer;

/// <summary>
/// One renaming rule: a regular expression matched against a whole state-dict key and its replacement
/// (<c>$1</c>-style groups allowed). Only the first match is replaced.
/// </summary>
public sealed record KeyRule
{
    public KeyRule(string pattern, string replacement)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(replacement);
        try
        {
            _ = new Regex(pattern, RegexOptions.CultureInvariant);
        }
        catch (ArgumentException e)
        {
            throw new InvalidChoiceException($"invalid key pattern '{pattern}': {e.Message}", e);
        }
        Pattern = pattern;
        Replacement = replacement;
    }

    public string Pattern { get; }
    public string Replacement { get; }

    /// <summary>Removes <paramref name="prefix"/> (taken literally) from the start of every key that has it.</summary>
    public static KeyRule StripPrefix(string prefix) => new("^" + Regex.Escape(prefix), "");

    /// <summary>The key after this rule; unchanged when the pattern does not match.</summary>
    // Regex's static methods keep a cache of parsed patterns, so a record stays a plain value (no Regex field).
    public string Apply(string key)
    {
        var match = Regex.Match(key, Pattern, RegexOptions.CultureInvariant);
        return match.Success ? key[..match.Index] + match.Result(Replacement) + key[(match.Index + match.Length)..] : key;
    }

    public override string ToString() => $"'{Pattern}' -> '{Replacement}'";
}

/// <summary>
/// How the keys of a weight file become the keys of a model: the checkpoint entries that may hold the state dict
/// (<c>{"state_dict": ...}</c>, <c>{"model": ...}</c>; unwrapped when a file is read), then an ordered list of
/// rules applied to every key. <see cref="Default"/> undoes the common wrappers: DataParallel's <c>module.</c> and
/// a training framework's <c>model.</c>.
/// </summary>
/// <param name="Containers">Checkpoint entries to descend into, tried in order, while the current dictionary holds no
/// tensors (so <c>{"model": {"state_dict": ...}}</c> unwraps twice).</param>
/// <param name="Rules">Renaming rules, applied in order to every key.</param>
public sealed record KeyMapping(IReadOnlyList<string> Containers, IReadOnlyList<KeyRule> Rules)
{
    /// <summary>
    /// Unwraps <c>state_dict</c>, <c>model</c>, <c>model_state_dict</c> and <c>module</c> entries and strips the
    /// <c>module.</c> and <c>model.</c> prefixes. A model whose own keys start with <c>model.</c> needs
    /// <see cref="Unwrap"/> or its own mapping.
    /// </summary>
    public static KeyMapping Default { get; } = new(
        ["state_dict", "model", "model_state_dict", "module"],
        [KeyRule.StripPrefix("module."), KeyRule.StripPrefix("model.")]);

    /// <summary>The containers of <see cref="Default"/>, no renaming.</summary>
    public static KeyMapping Unwrap { get; } = Default with { Rules = [] };

    /// <summary>Keys exactly as in the file; only a flat state dict can be read.</summary>
    public static KeyMapping None { get; } = new([], []);

    /// <summary>This mapping with one more rule at the end.</summary>
    public KeyMapping WithRule(string pattern, string replacement) => this with { Rules = [.. Rules, new KeyRule(pattern, replacement)] };

    /// <summary>This mapping with one more prefix stripped at the end.</summary>
    public KeyMapping WithPrefixStripped(string prefix) => this with { Rules = [.. Rules, KeyRule.StripPrefix(prefix)] };

    /// <summary>This mapping with one more checkpoint entry to unwrap, tried after the others.</summary>
    public KeyMapping WithContainer(string entry) => this with { Containers = [.. Containers, entry] };

    /// <summary>The model key for file key <paramref name="key"/>.</summary>
    public string Map(string key)
    {
        foreach (var rule in Rules) key = rule.Apply(key);
        return key;
    }

    /// <summary>
    /// The same tensors under mapped keys, in the same order. Two keys mapping to one, or a key mapping to the empty
    /// string, is an error that names them: silently dropping a tensor would hide a wrong rule.
    /// </summary>
    public Dictionary<string, Tensor> Apply(IReadOnlyDictionary<string, Tensor> stateDict)
    {
        var result = new Dictionary<string, Tensor>(stateDict.Count);
        var origin = new Dictionary<string, string>(stateDict.Count);
        foreach (var (key, tensor) in stateDict)
        {
            string mapped = Map(key);
            if (mapped.Length == 0)
                throw new InvalidChoiceException($"key mapping turns '{key}' into an empty key (rules: {Describe()})");
            if (origin.TryGetValue(mapped, out var first))
                throw new InvalidChoiceException($"key mapping turns both '{first}' and '{key}' into '{mapped}' (rules: {Describe()})");
            origin[mapped] = key;
            result[mapped] = tensor;
        }
        return result;
    }

    string Describe() => Rules.Count == 0 ? "none" : string.Join(", ", Rules);

    public override string ToString()
        => $"KeyMapping {{ Containers = [{string.Join(", ", Containers)}], Rules = [{string.Join(", ", Rules)}] }}";
}
