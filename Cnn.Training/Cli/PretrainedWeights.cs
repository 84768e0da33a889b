using Cnn.Onnx.Import;
using Cnn.Training.Reporting;
using Cnn.Transfer;
using Cnn.Transfer.Catalog;
using Cnn.Zoo;
using Cnn.Zoo.Models;

namespace Cnn.Training.Cli;

/// <summary>
/// What <c>--model NAME --weights NAME|FILE</c> gives the predict, eval and finetune verbs: the model with the
/// weights loaded, how to prepare images for it, and the category names when the weights have them.
/// <para>A weights name (<c>IMAGENET1K_V2</c>, <c>DEFAULT</c>) is a catalog entry, fetched into torch.hub's cache
/// (<c>$TORCH_HOME/hub/checkpoints</c>) with a progress bar on first use. A file is loaded as it is; if its name is a
/// published one (<c>resnet50-11ad3fa6.pth</c>) it gets its entry's preprocessing, options and categories, otherwise
/// torchvision's ImageNet default preprocessing (resize 256, crop 224, ImageNet mean/std).</para>
/// </summary>
/// <param name="Model">The model, weights loaded, in training mode.</param>
/// <param name="Preprocessing">How images are prepared for it.</param>
/// <param name="Categories">Output class names; null when unknown or when the classifier is new.</param>
/// <param name="Report">What the load did.</param>
/// <param name="Source">The entry or file, for messages.</param>
/// <param name="Architecture">The registry model it was built as.</param>
/// <param name="ModelOptions">The registry options it was built with (for a checkpoint to rebuild it).</param>
/// <param name="Published">True when the weights came from a catalog entry (by name or by published file name).</param>
public sealed record PretrainedWeights(ZooModel Model, Preprocessing Preprocessing, IReadOnlyList<string>? Categories,
                                       LoadReport Report, string Source, string Architecture, Dictionary<string, string> ModelOptions, bool Published)
{
    /// <summary>
    /// Loads <paramref name="weights"/> (a file if one exists at that path, else a weights name of
    /// <paramref name="model"/>). <paramref name="numClasses"/> null keeps the weights' classifier; a number gives a
    /// new one for that many classes.
    /// </summary>
    public static PretrainedWeights Load(string model, string weights, int? numClasses)
    {
        var (entry, cache) = Locate(model, weights);
        if (entry is null) return FromFile(model, weights, numClasses);
        var bar = new DownloadBar();
        var pretrained = PretrainedBackbones.Catalog.Create(entry.Model, entry.Name, numClasses, cache: cache, log: Console.Error.WriteLine, progress: bar.Report);
        return new PretrainedWeights(pretrained.Model, pretrained.Preprocessing, pretrained.Categories, pretrained.Report,
                                     $"{entry} ({entry.Source.LocalPath(cache)})", entry.Architecture,
                                     new Dictionary<string, string>(entry.Options), Published: true);
    }

    /// <summary>
    /// What <see cref="Load"/> will read, said before it reads it: the entry, and the cached file or the address it is
    /// downloaded from (with its size when the catalog knows it).
    /// </summary>
    public static string Describe(string model, string weights)
    {
        var (entry, cache) = Locate(model, weights);
        if (entry is null) return $"the file {weights}";
        string local = entry.Source.LocalPath(cache);
        string from = entry.Source is PublishedFile file
            ? cache.UrlFor(file) + (file.FileSize is long bytes ? $" ({bytes / 1e6:F1} MB)" : "")
            : entry.Source.Origin;
        return File.Exists(local)
            ? $"loading {entry} from the cache ({local})"
            : $"loading {entry}, first fetched from {from} into {local}";
    }

    /// <summary>Throws the error <see cref="Load"/> would for weights that are neither a file nor a name of
    /// <paramref name="model"/>, before any slow work.</summary>
    public static void Check(string model, string weights) => Locate(model, weights);

    /// <summary>The catalog entry the weights are (by name, or by a published file's name) and the cache to read it
    /// from; no entry for a file that no entry describes.</summary>
    static (WeightsEntry? Entry, WeightsCache Cache) Locate(string model, string weights)
    {
        var catalog = PretrainedBackbones.Catalog;
        var cache = WeightsCache.FromEnvironment();
        if (File.Exists(weights))
        {
            string fileName = Path.GetFileName(weights);
            var published = catalog.Entries.FirstOrDefault(e => string.Equals(e.Model, model, StringComparison.OrdinalIgnoreCase)
                                                               && e.Source is PublishedFile f && f.FileName == fileName);
            // The published file at hand serves as the cache copy: no network, and the hash-named file is the same.
            return (published, cache with { CheckpointsDirectory = Path.GetDirectoryName(Path.GetFullPath(weights))! });
        }
        if (catalog.TryGet(model, weights, out var entry)) return (entry, cache);
        var names = catalog.For(model).Select(e => e.Name).ToList();
        string known = names.Count == 0
            ? $"{model} has no published weights (models with weights: {string.Join(", ", catalog.Entries.Select(e => e.Model).Distinct())})"
            : $"{model} has the weights {string.Join(", ", names)} and {WeightsCatalog.DefaultName}";
        throw new FileNotFoundException($"--weights: '{weights}' is neither a file nor a weights name; {known} ('cnnzoo models --weights' lists them all)", weights);
    }

    /// <summary>A weights file no entry describes: the class count comes from its classifier (unless a new head is
    /// asked for), and the preprocessing is torchvision's ImageNet default for RGB models.</summary>
    static PretrainedWeights FromFile(string model, string path, int? numClasses)
    {
        var stateDict = Weights.Read(path);
        var zoo = ModelRegistry.Create(model, ModelRegistry.Get(model).DefaultClasses);
        try
        {
            int classes = numClasses
                ?? (stateDict.TryGetValue(zoo.ClassifierName + ".weight", out var head) ? (int)head.shape[0] : zoo.NumClasses);
            if (classes != zoo.NumClasses) zoo.ResetClassifier(classes);
            var report = Weights.Load(zoo, stateDict, path, strict: true, skipPrefixes: numClasses is null ? null : [zoo.ClassifierName]);
            var preprocessing = zoo.Input.Channels == 3 ? Preprocessing.ImageNet
                : new Preprocessing(zoo.Input.Height, zoo.Input.Height, [0.5], [0.5]);
            return new PretrainedWeights(zoo, preprocessing, null, report, path, model, [], Published: false);
        }
        catch
        {
            zoo.Dispose();
            throw;
        }
        finally
        {
            foreach (var t in stateDict.Values) t.Dispose();
        }
    }
}
