using static TorchSharp.torch;

namespace Cnn.Training.Data;

/// <summary>
/// One mini-batch: N x C x H x W float32 images and N int64 labels, the dtypes <c>cross_entropy</c> expects.
/// The batch owns its tensors (they belong to no dispose scope); dispose it once the step is done.
/// </summary>
public sealed class Batch : IDisposable
{
    /// <summary>Wraps tensors the caller made (a hand-built batch in a test or an evaluation script); the batch then owns them.</summary>
    public Batch(Tensor images, Tensor labels, IReadOnlyList<int>? indices = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        if (images.dim() != 4 || images.dtype != ScalarType.Float32)
            throw new ArgumentException($"expected N x C x H x W float32 images; found {images.dtype} [{string.Join(", ", images.shape)}]", nameof(images));
        if (labels.dim() != 1 || labels.dtype != ScalarType.Int64 || labels.shape[0] != images.shape[0])
            throw new ArgumentException(
                $"expected {images.shape[0]} int64 labels (one per image); found {labels.dtype} [{string.Join(", ", labels.shape)}]", nameof(labels));
        indices ??= Enumerable.Range(0, (int)images.shape[0]).ToArray();
        if (indices.Count != images.shape[0])
            throw new ArgumentException($"expected {images.shape[0]} indices (one per image); found {indices.Count}", nameof(indices));
        Images = images;
        Labels = labels;
        Indices = indices;
    }

    public Tensor Images { get; }
    public Tensor Labels { get; }
    public int Count => Indices.Count;

    /// <summary>Dataset index of each row, for tracing a prediction back to its file.</summary>
    public IReadOnlyList<int> Indices { get; }

    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}
