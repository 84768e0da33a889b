using Cnn.Zoo;
using Cnn.Zoo.Models;
using Cnn.Zoo.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Transfer;

/// <summary>
/// Reading, loading and saving weights in PyTorch's formats: torch.save zip checkpoints (<c>.pt</c>, <c>.pth</c>,
/// <c>.bin</c>, <c>.ckpt</c>, <c>.tar</c>) and <c>.safetensors</c>, chosen by extension.
/// <para>Loading does not go through PyBridge's <c>load_py</c>, which in 1.4.4 reads keys it was told to skip,
/// copies <c>requires_grad=False</c> from the file onto the parameters, and checks names but not shapes (a smaller
/// tensor silently overwrites part of a larger one). Here every key and shape is checked before anything is copied,
/// values are copied in place under no_grad, and <c>requires_grad</c> stays what it was.</para>
/// </summary>
public static class Weights
{
    /// <summary>
    /// The tensors of a weight file under the model keys <paramref name="mapping"/> gives them
    /// (<see cref="KeyMapping.Default"/> when null). Checkpoint dictionaries (<c>{"state_dict": ..., "epoch": 3}</c>)
    /// are unwrapped. The caller owns (and disposes) the returned tensors.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is truncated, corrupt, or not in the format its extension says, or
    /// its pickle imports anything but tensors, storages, dtypes, collections, numpy scalars and plain containers.</exception>
    /// <exception cref="ArgumentException">Unknown extension, or the mapping makes two keys collide.</exception>
    public static Dictionary<string, Tensor> Read(string path, KeyMapping? mapping = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        mapping ??= KeyMapping.Default;
        var raw = WeightFiles.Read(path, mapping.Containers);
        try
        {
            return mapping.Apply(raw);
        }
        catch
        {
            foreach (var t in raw.Values) t.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads <paramref name="path"/> (see <see cref="Read"/>) and copies its tensors into <paramref name="model"/>
    /// (see <see cref="Load(nn.Module, Dictionary{string, Tensor}, bool, IEnumerable{string}?)"/>).
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is truncated, corrupt, not in its extension's format, or its
    /// pickle imports code (see <see cref="Read"/>).</exception>
    /// <exception cref="WeightLoadException">Strict, and the keys or shapes do not fit the model (the message is the
    /// one-screen <see cref="LoadReport"/>, naming the architecture the file holds when that is the reason).</exception>
    public static LoadReport Load(nn.Module model, string path, bool strict = true, KeyMapping? mapping = null,
                                  IEnumerable<string>? skipPrefixes = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var stateDict = Read(path, mapping);
        try
        {
            return LoadCore(model, stateDict, strict, skipPrefixes, $"'{path}'");
        }
        finally
        {
            foreach (var t in stateDict.Values) t.Dispose();
        }
    }

    /// <summary>
    /// Copies the tensors of <paramref name="stateDict"/> into the model's parameters and buffers with matching keys.
    /// <para>Keys equal to or under one of <paramref name="skipPrefixes"/> (e.g. the classifier's name) are ignored
    /// on both sides, and so are the auxiliary heads of a model built without them (GoogLeNet's <c>aux1</c>,
    /// <c>aux2</c>: torchvision's published file has them). Strict: any missing, unexpected or wrong-shape key throws a <see cref="WeightLoadException"/>
    /// whose report lists them all, and the model is left exactly as it was (everything is checked before anything is
    /// copied). Not strict: every key whose name and shape match is copied, the rest keep their values, and the
    /// report says which.</para>
    /// <para>Values are copied in place, so the model's tensors keep their dtype, device and identity (an optimizer
    /// built earlier still holds them), and every parameter's <c>requires_grad</c> is what it was before.</para>
    /// </summary>
    public static LoadReport Load(nn.Module model, Dictionary<string, Tensor> stateDict, bool strict = true,
                                  IEnumerable<string>? skipPrefixes = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(stateDict);
        return LoadCore(model, stateDict, strict, skipPrefixes, "a state dict");
    }

    /// <summary>As <see cref="Load(nn.Module, Dictionary{string, Tensor}, bool, IEnumerable{string}?)"/>, with
    /// <paramref name="source"/> naming where the tensors came from in the report.</summary>
    public static LoadReport Load(nn.Module model, Dictionary<string, Tensor> stateDict, string source, bool strict = true,
                                  IEnumerable<string>? skipPrefixes = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(stateDict);
        ArgumentNullException.ThrowIfNull(source);
        return LoadCore(model, stateDict, strict, skipPrefixes, source);
    }

    static LoadReport LoadCore(nn.Module model, Dictionary<string, Tensor> source, bool strict,
                               IEnumerable<string>? skipPrefixes, string sourceName)
    {
        // A model built without its auxiliary heads (GoogLeNet's default) takes a file made with them, as
        // torchvision's builder does for its published GoogLeNet: the heads' keys are skipped and reported as such.
        IEnumerable<string> absentHeads = model is IAuxiliaryClassifiers { HasAuxiliary: false } aux ? aux.AuxiliaryNames : [];
        string[] skip = StateKeys.CheckPrefixes([.. skipPrefixes ?? [], .. absentHeads], nameof(skipPrefixes));
        bool Skipped(string key) => skip.Any(p => StateKeys.IsUnder(key, p));

        var target = model.state_dict();
        var loaded = new List<string>();
        var missing = new List<string>();
        var mismatches = new List<(string Key, long[] Expected, long[] Found)>();
        var skipped = new List<string>();
        foreach (var (key, tensor) in target)
        {
            if (Skipped(key)) { skipped.Add(key); continue; }
            if (!source.TryGetValue(key, out var value)) { missing.Add(key); continue; }
            if (!tensor.shape.SequenceEqual(value.shape)) { mismatches.Add((key, tensor.shape, value.shape)); continue; }
            loaded.Add(key);
        }
        var unexpected = new List<string>();
        foreach (var key in source.Keys.Order(StringComparer.Ordinal))
        {
            if (target.ContainsKey(key)) continue;
            if (Skipped(key)) skipped.Add(key);
            else unexpected.Add(key);
        }

        string modelName = model.GetName();
        if (strict && (missing.Count > 0 || unexpected.Count > 0 || mismatches.Count > 0))
            throw new WeightLoadException(new LoadReport(sourceName, modelName, [], missing, unexpected, mismatches, skipped,
                                                         OtherArchitecture(modelName, source, loaded.Count, target.Count - skipped.Count)));

        // copy_ into a leaf that requires grad is only legal under no_grad; it never touches requires_grad, but
        // the flags are restored anyway so that no code path (now or after a TorchSharp change) can freeze a model.
        var flags = model.named_parameters().Select(p => (p.parameter, p.parameter.requires_grad)).ToList();
        try
        {
            using var _ = no_grad();
            foreach (var key in loaded) target[key].copy_(source[key]);
        }
        finally
        {
            foreach (var (parameter, requiresGrad) in flags) parameter.requires_grad = requiresGrad;
        }
        return new LoadReport(sourceName, modelName, loaded, missing, unexpected, mismatches, skipped);
    }

    /// <summary>
    /// The registered architecture the file's keys match, when hardly any fit <paramref name="modelName"/> (under 90% of
    /// its keys found): weights of another model. Null when most keys fit (a different head is the usual reason) or
    /// when the best match is the model itself (same keys, other options).
    /// </summary>
    static ArchitectureMatch? OtherArchitecture(string modelName, Dictionary<string, Tensor> source, int fitting, int modelKeys)
    {
        if (fitting >= 0.9 * modelKeys && fitting >= 0.9 * source.Count) return null;
        var match = ArchitectureMatch.Best(source.ToDictionary(kv => kv.Key, kv => kv.Value.shape, StringComparer.Ordinal));
        return match is not null && match.Model != modelName ? match : null;
    }

    /// <summary>
    /// Saves the model's state dict, keys in the model's order: <c>.pt</c>/<c>.pth</c>/<c>.bin</c> as a torch.save
    /// zip checkpoint (<c>model.load_state_dict(torch.load(path), strict=True)</c> works in PyTorch),
    /// <c>.safetensors</c> as safetensors. The file is written under a temporary name and renamed, so the target is
    /// either the old file or the complete new one.
    /// </summary>
    public static void Save(nn.Module model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(path);
        var format = WeightFiles.FormatOf(path);
        using var scope = NewDisposeScope();
        // Contiguous CPU copies with their own storage: the writers dump bytes with offset 0 and row-major strides.
        var tensors = model.state_dict()
            .Select(kv => (kv.Key, kv.Value.detach().cpu().contiguous().clone()))
            .ToList();
        AtomicFile.Write(path, stream =>
        {
            if (format == WeightFormat.PyTorch) PyTorchWeightFile.Write(stream, tensors);
            else SafetensorsWeightFile.Write(stream, tensors);
        }, createDirectory: false);   // a missing folder is more likely a typo than a wish
    }
}

/// <summary>Prefix matching on state-dict keys, one dotted component at a time.</summary>
internal static class StateKeys
{
    /// <summary>True when <paramref name="key"/> is <paramref name="prefix"/> or lies under it
    /// (<c>layer1</c> covers <c>layer1.0.conv1.weight</c> but not <c>layer10.weight</c>).</summary>
    public static bool IsUnder(string key, string prefix)
        => key == prefix
           || (key.Length > prefix.Length && key[prefix.Length] == '.' && key.StartsWith(prefix, StringComparison.Ordinal));

    /// <summary>The prefixes without trailing dots; an empty one (which would cover everything) is an error.</summary>
    public static string[] CheckPrefixes(IEnumerable<string> prefixes, string parameter)
    {
        var result = prefixes.Select(p => (p ?? "").TrimEnd('.')).ToArray();
        if (result.Any(p => p.Length == 0))
            throw new InvalidChoiceException("an empty prefix would match every key; name a module such as 'fc' or 'layer1'");
        return result;
    }
}
