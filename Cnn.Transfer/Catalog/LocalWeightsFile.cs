using static TorchSharp.torch;

namespace Cnn.Transfer.Catalog;

/// <summary>A weights file the user names (<c>--weights model.pt</c>), read where it lies: nothing to fetch or cache.</summary>
/// <param name="Path">The <c>.pt</c>, <c>.pth</c>, <c>.bin</c> or <c>.safetensors</c> file.</param>
public sealed record LocalWeightsFile(string Path) : IWeightsSource
{
    public string Origin => Path;

    public string LocalPath(WeightsCache cache) => Path;

    public Dictionary<string, Tensor> Read(WeightsCache cache, Action<string> log, Action<DownloadProgress>? progress) => Weights.Read(Path);
}
