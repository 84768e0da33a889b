namespace Cnn.Training.Data;

/// <summary>
/// An indexable set of labelled images, after torchvision's map-style <c>Dataset</c>. Labels must be cheap (no decoding)
/// because splitting and stratified subsets read every one; <see cref="Load"/> may be slow and is called from worker
/// threads, so implementations must be safe for concurrent calls.
/// </summary>
public interface IImageDataset
{
    int Count { get; }

    /// <summary>Class names; label <c>i</c> means <c>Classes[i]</c>.</summary>
    IReadOnlyList<string> Classes { get; }

    int LabelOf(int index);

    /// <summary>Decodes sample <paramref name="index"/> to float CHW in [0, 1].</summary>
    ImageData Load(int index);

    /// <summary>Where a sample comes from, for error messages: a file path, or <c>train-images-idx3-ubyte.gz #123</c>.</summary>
    string Describe(int index);
}

/// <summary>What to do with an image that cannot be decoded.</summary>
public enum BadDataPolicy
{
    /// <summary>Throw, naming the file: the safe default, a broken dataset should not train silently.</summary>
    Fail,

    /// <summary>Leave the sample out of its batch and record it in <see cref="DataLoader.Errors"/>, as web-scraped sets need.</summary>
    Skip,
}

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
