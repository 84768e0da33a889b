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

    /// <summary>The shape the samples share, decided from all of them (never from one sample): the transforms that fit
    /// the data to a model are built from it.</summary>
    SampleGeometry Geometry { get; }

    /// <summary>Where a sample comes from, for error messages: a file path, or <c>train-images-idx3-ubyte.gz #123</c>.</summary>
    string Describe(int index);
}
