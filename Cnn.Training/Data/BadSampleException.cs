namespace Cnn.Training.Data;

/// <summary>
/// A sample that cannot be read. It carries the dataset's <see cref="BadDataPolicy"/> so that the loader, which only
/// sees <see cref="IImageDataset"/>, knows whether to skip it or stop. An <see cref="IOException"/> because
/// <see cref="InvalidDataException"/> is sealed; the inner exception says what exactly was wrong.
/// </summary>
public sealed class BadSampleException : IOException
{
    public BadSampleException(string sample, string reason, BadDataPolicy policy, Exception? inner = null)
        : base($"{sample}: {reason}", inner)
    {
        Sample = sample;
        Reason = reason;
        Policy = policy;
    }

    /// <summary>The sample as <see cref="IImageDataset.Describe"/> names it.</summary>
    public string Sample { get; }

    public string Reason { get; }

    public BadDataPolicy Policy { get; }
}
