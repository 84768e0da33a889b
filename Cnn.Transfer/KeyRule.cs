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
