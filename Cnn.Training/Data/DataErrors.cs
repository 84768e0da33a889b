namespace Cnn.Training.Data;

/// <summary>
/// Samples left out under <see cref="BadDataPolicy.Skip"/>. Thread-safe; accumulates over every epoch of a loader.
/// </summary>
public sealed class DataErrors
{
    private readonly object _gate = new();
    private readonly SortedDictionary<int, string> _firstMessage = []; // by dataset index, so the report order is fixed
    private int _skipped;

    /// <summary>Skips over all epochs so far: a bad file is counted once per epoch it was met in.</summary>
    public int Skipped
    {
        get { lock (_gate) return _skipped; }
    }

    /// <summary>Distinct samples skipped at least once.</summary>
    public int SkippedSamples
    {
        get { lock (_gate) return _firstMessage.Count; }
    }

    /// <summary>One message per distinct skipped sample (naming its file and why), in dataset order.</summary>
    public IReadOnlyList<string> Messages
    {
        get { lock (_gate) return [.. _firstMessage.Values]; }
    }

    internal void Record(int index, string message)
    {
        lock (_gate)
        {
            _skipped++;
            _firstMessage.TryAdd(index, message);
        }
    }

    public override string ToString() =>
        SkippedSamples == 0 ? "no samples skipped" : $"{DataFiles.Plural(SkippedSamples, "sample")} skipped ({Skipped} skips over all epochs)";
}
