using System.Diagnostics;
using System.Reflection;
using Cnn.Transfer.Catalog;
using Cnn.Zoo;
using Cnn.Zoo.IO;
using Cnn.Zoo.Layers;
using Cnn.Zoo.Models;
using static TorchSharp.torch;

namespace Cnn.Onnx.Import;

/// <summary>
/// ImageNet-pretrained backbones as zoo models, built offline from weights that arrive with <c>dotnet restore</c>.
/// Each is an entry of <see cref="Catalog"/> whose source converts the ONNX graph (a few seconds, on
/// first use) and caches the converted state dict as safetensors (<see cref="ConvertedBackbone"/>). Converted models
/// take torchvision-normalised RGB input (<see cref="InputConvention.TorchVision"/>), whatever the source network
/// expected.
/// </summary>
public static class PretrainedBackbones
{
    const string MlNetResNet18 = "Microsoft.ML.DnnImageFeaturizer.ResNet18";

    /// <summary>The catalog's name for the weights of every backbone here.</summary>
    public const string WeightsName = "IMAGENET1K_MLNET";

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
           ?? throw new InvalidChoiceException($"unknown pretrained backbone '{name}'; known: {string.Join(", ", entries.Select(e => e.Name))}");

    static readonly Lazy<WeightsCatalog> withTorchVision = new(() => WeightsCatalog.Default.With(CatalogEntries));

    /// <summary>torchvision's published weights (<see cref="WeightsCatalog.Default"/>) and these backbones: the catalog
    /// the command line offers.</summary>
    public static WeightsCatalog Catalog => withTorchVision.Value;

    /// <summary>
    /// The backbones as weights-catalog entries: the registry's ResNet builder with the backbone's stages (its
    /// <c>layers</c> option), no classifier, and the preprocessing of ML.NET's featurizer (the image resized to
    /// 224x224) with torchvision's normalisation, which the conversion folds in.
    /// </summary>
    public static IEnumerable<WeightsEntry> CatalogEntries => entries.Select(backbone => new WeightsEntry
    {
        Model = backbone.Name,
        Name = WeightsName,
        IsDefault = true,
        // The registry's resnet18 and resnet50 are its BasicBlock and Bottleneck builders; layers sets the stages.
        Architecture = backbone.Config.Block == ResidualBlockKind.Basic ? "resnet18" : "resnet50",
        Options = new Dictionary<string, string> { ["layers"] = string.Join(",", backbone.Config.Layers) },
        Preprocessing = new Preprocessing(224, 224, Preprocessing.ImageNetMean, Preprocessing.ImageNetStd),
        Source = new ConvertedBackbone(backbone),
        Description = backbone.Description,
    });

    /// <summary>
    /// Builds <paramref name="name"/> with pretrained backbone weights and a freshly initialised classifier for
    /// <paramref name="numClasses"/> classes: <see cref="WeightsCatalog.Create"/> on its catalog entry, with converted
    /// weights cached under <paramref name="cacheDir"/> (default <see cref="DefaultCacheDir"/>). The model is in
    /// training mode, as torchvision returns it; call <c>eval()</c> before extracting features.
    /// </summary>
    /// <param name="log">Progress lines (conversion, cache); default standard error. Pass <c>_ => { }</c> for silence.</param>
    public static ZooModel Create(string name, int numClasses, string? cacheDir = null, Action<string>? log = null)
    {
        var backbone = Get(name);
        var cache = WeightsCache.FromEnvironment();
        if (cacheDir is not null) cache = cache with { ConvertedDirectory = cacheDir };
        return Catalog.Create(backbone.Name, WeightsName, numClasses, cache: cache, log: log).Model;
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

    /// <summary>Root of converted-weight caches: <see cref="WeightsCache.ConvertedDirectory"/> of the environment
    /// (<c>$CNNZOO_CACHE</c>, else <c>$XDG_CACHE_HOME/cnnzoo</c>, else <c>~/.cache/cnnzoo</c>).</summary>
    public static string DefaultCacheDir => WeightsCache.FromEnvironment().ConvertedDirectory;

    /// <summary>The cache file <see cref="Create"/> reads and writes for <paramref name="name"/>.</summary>
    public static string CachePath(string name, string? cacheDir = null)
        => Path.Combine(cacheDir ?? DefaultCacheDir, Get(name).CacheFileName);

    /// <summary>
    /// Finds a file of the source package. Looked for, in order: next to the application (where the package's own
    /// build props copy <c>DnnImageModels/</c> when an app references it normally), under <c>$NUGET_PACKAGES</c>,
    /// under the packages folder Cnn.Onnx was restored with, and under <c>~/.nuget/packages</c>.
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
                   + $"'dotnet restore' on Cnn.Onnx (its PackageDownload fetches the package). Looked in:\n  {string.Join("\n  ", candidates.Distinct())}");
    }

    static string? BuildTimePackageRoot()
        => typeof(PretrainedBackbones).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "NuGetPackageRoot")?.Value;
}
