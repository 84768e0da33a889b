using System.Collections.Concurrent;
using Cnn.Zoo;
using static TorchSharp.torch;

namespace Cnn.Transfer;

/// <summary>
/// The registered architecture whose state dict best matches a weight file's keys and shapes: what a load report
/// suggests when weights of one model are loaded into another.
/// </summary>
/// <param name="Model">The registry name, e.g. <c>mobilenet_v2</c>.</param>
/// <param name="Matching">File keys that the model has, with the same shape.</param>
/// <param name="FileKeys">Keys in the file.</param>
/// <param name="ModelKeys">Keys in the model's state dict (at its default class count and options).</param>
public sealed record ArchitectureMatch(string Model, int Matching, int FileKeys, int ModelKeys)
{
    /// <summary>A match of at least half the file's keys names the architecture; less is only "the closest".</summary>
    public bool IsConvincing => Matching * 2 >= FileKeys && Matching > 0;

    public override string ToString() => IsConvincing
        ? $"this file holds {Model} weights ({Matching} of {FileKeys} keys match); --model {Model}?"
        : $"the file's keys match no registered model (the closest, {Model}, has {Matching} of its {FileKeys} keys)";

    static readonly ConcurrentDictionary<string, Dictionary<string, long[]>> signatures = new(StringComparer.Ordinal);
    static readonly object building = new();

    /// <summary>
    /// Compares <paramref name="file"/> (key to shape) with the state dict of every registered model and returns the
    /// one with the largest overlap relative to both key sets (so a ResNet-18 file names resnet18, not resnet34, whose
    /// keys include all of ResNet-18's); null when the registry is empty. Slow the first time (every model is built,
    /// on the meta device, about 2 s for the whole zoo), cached after that: call it on a failure path.
    /// </summary>
    public static ArchitectureMatch? Best(IReadOnlyDictionary<string, long[]> file)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArchitectureMatch? best = null;
        double bestScore = -1;
        foreach (var entry in ModelRegistry.All)
        {
            var keys = Signature(entry);
            if (keys is null) continue;
            int matching = file.Count(kv => keys.TryGetValue(kv.Key, out var shape) && shape.AsSpan().SequenceEqual(kv.Value));
            double score = (double)matching / (file.Count + keys.Count - matching); // Jaccard index of (key, shape) pairs
            if (score > bestScore)
            {
                bestScore = score;
                best = new ArchitectureMatch(entry.Name, matching, file.Count, keys.Count);
            }
        }
        return best;
    }

    /// <summary>The model's keys and shapes at its default class count, or null when it cannot be built without options.</summary>
    static Dictionary<string, long[]>? Signature(ModelEntry entry)
    {
        if (signatures.TryGetValue(entry.Name, out var cached)) return cached;
        lock (building)
        {
            if (signatures.TryGetValue(entry.Name, out cached)) return cached;
            // Built on the meta device: shapes without storage or initialisation, so VGG's 138M parameters cost nothing.
            // TorchSharp's default device is process-wide; the loader makes its batches with an explicit device, and
            // this runs only while a load is being refused, before any training.
            var previous = get_default_device();
            set_default_device(META);
            try
            {
                using var model = entry.Create(entry.DefaultClasses, ModelOptions.None);
                var keys = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape, StringComparer.Ordinal);
                signatures[entry.Name] = keys;
                return keys;
            }
            catch (ArgumentException)
            {
                return null; // a user-registered model that needs options: it cannot be the file's architecture by default
            }
            finally
            {
                set_default_device(previous);
            }
        }
    }
}
