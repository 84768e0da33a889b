using Cnn.Zoo;
using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace Cnn.Transfer;

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
