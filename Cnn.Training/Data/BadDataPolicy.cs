namespace Cnn.Training.Data;

/// <summary>What to do with an image that cannot be decoded.</summary>
public enum BadDataPolicy
{
    /// <summary>Throw, naming the file: the safe default, a broken dataset should not train silently.</summary>
    Fail,

    /// <summary>
    /// Leave bad samples out, as web-scraped sets need: an image folder leaves out the files its opening scan cannot
    /// decode and lists them in <see cref="ImageFolderDataset.LeftOut"/>; the loader leaves out samples that fail later
    /// and records them in <see cref="DataLoader.Errors"/>.
    /// </summary>
    Skip,
}
