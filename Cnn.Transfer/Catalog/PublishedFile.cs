using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace Cnn.Transfer.Catalog;

/// <summary>
/// A weights file published at a URL, cached under its published name in <see cref="WeightsCache.CheckpointsDirectory"/>
/// exactly as <c>torch.hub.load_state_dict_from_url</c> caches it. The file name carries the first hex digits of its
/// SHA-256 (<c>resnet50-11ad3fa6.pth</c>), which a download must match.
/// </summary>
/// <param name="Url">The published URL; its last path segment is the file name.</param>
/// <param name="FileSize">Size in bytes, when the publisher states it (torchvision 0.14 does not).</param>
public sealed partial record PublishedFile(string Url, long? FileSize = null) : IWeightsSource
{
    /// <summary>The file name: the URL's last path segment.</summary>
    public string FileName => Path.GetFileName(new Uri(Url).AbsolutePath);

    /// <summary>The SHA-256 prefix torch.hub reads from the file name (<c>-([a-f0-9]*)\.</c>); null when there is none,
    /// and then, as in torch.hub, a download is not verified.</summary>
    public string? Sha256Prefix => HashInName().Match(FileName) is { Success: true } m ? m.Groups[1].Value : null;

    public string Origin => Url;

    public string LocalPath(WeightsCache cache)
    {
        ArgumentNullException.ThrowIfNull(cache);
        return Path.Combine(cache.CheckpointsDirectory, FileName);
    }

    public Dictionary<string, Tensor> Read(WeightsCache cache, Action<string> log, Action<DownloadProgress>? progress)
    {
        string path = WeightsDownloader.Fetch(cache.UrlFor(this), LocalPath(cache), Sha256Prefix, log, progress);
        try
        {
            return Weights.Read(path, KeyMapping.None);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{e.Message}; delete {path} to download it again from {cache.UrlFor(this)}", e);
        }
    }

    /// <summary>torch.hub's <c>HASH_REGEX</c>.</summary>
    [GeneratedRegex(@"-([a-f0-9]*)\.", RegexOptions.CultureInvariant)]
    private static partial Regex HashInName();
}
