using static TorchSharp.torch;

namespace Cnn.Transfer.Catalog;

/// <summary>
/// Where a catalog entry's state dict comes from: a published file fetched into PyTorch's hub cache
/// (<see cref="PublishedFile"/>), or weights converted from another format and cached by this project. The catalog
/// and <see cref="WeightsCatalog.Create"/> know only this interface, so a new kind of source needs no change there.
/// </summary>
public interface IWeightsSource
{
    /// <summary>Where the weights originally come from, for listings and messages (a URL, a NuGet package).</summary>
    string Origin { get; }

    /// <summary>The local file that holds (or will hold) the weights under <paramref name="cache"/>.</summary>
    string LocalPath(WeightsCache cache);

    /// <summary>
    /// The state dict, fetched or converted first when <see cref="LocalPath"/> does not exist yet. The caller owns
    /// (and disposes) the tensors.
    /// </summary>
    /// <param name="log">Progress lines (download started, conversion, cache written).</param>
    /// <param name="progress">Download progress, reported while bytes arrive; never called on a cache hit.</param>
    Dictionary<string, Tensor> Read(WeightsCache cache, Action<string> log, Action<DownloadProgress>? progress);
}
