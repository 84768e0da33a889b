using System.Text.Json;
using Cnn.Zoo;
using Cnn.Zoo.Models;
using static TorchSharp.torch;

namespace Cnn.Transfer.Catalog;

/// <summary>
/// Pretrained weights by name: every entry of torchvision's weights enums for the zoo's models (generated from
/// torchvision 0.14 by <c>tools/catalog/make_weights_catalog.py</c> and shipped inside this assembly). Other sources
/// add entries with <see cref="With"/> (Cnn.Onnx adds the backbone it converts from ONNX, <c>resnet18_2223</c>).
/// Entries are found by model and weights name (<c>resnet50</c>, <c>IMAGENET1K_V2</c>), where <c>DEFAULT</c> names
/// each model's best weights as in torchvision.
/// </summary>
public sealed class WeightsCatalog
{
    /// <summary>The name that stands for a model's default entry.</summary>
    public const string DefaultName = "DEFAULT";

    const string CatalogResource = "Cnn.Transfer.Catalog.torchvision-weights.json";
    const string CategoriesResource = "Cnn.Transfer.Catalog.imagenet-categories.txt";

    static readonly Lazy<IReadOnlyList<string>> imageNetCategories = new(() => ReadLines(CategoriesResource));
    static readonly Lazy<WeightsCatalog> standard = new(() => new WeightsCatalog(
        Parse(ReadResource(CatalogResource), ImageNetCategoriesFor, "torchvision-weights.json (embedded)")));

    readonly List<WeightsEntry> entries;

    /// <summary>A catalog of <paramref name="entries"/>: (model, name) pairs must be unique, and each model has at most
    /// one default.</summary>
    public WeightsCatalog(IEnumerable<WeightsEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        this.entries = [.. entries];
        foreach (var group in this.entries.GroupBy(e => e.Model, StringComparer.OrdinalIgnoreCase))
        {
            var repeated = group.GroupBy(e => e.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
            if (repeated is not null)
                throw new InvalidChoiceException($"weights catalog: {group.Key} has two entries named {repeated.Key}");
            if (group.Any(e => string.Equals(e.Name, DefaultName, StringComparison.OrdinalIgnoreCase)))
                throw new InvalidChoiceException($"weights catalog: {group.Key} has an entry named {DefaultName}, which is reserved for the default's alias");
            if (group.Count(e => e.IsDefault) > 1)
                throw new InvalidChoiceException($"weights catalog: {group.Key} has {group.Count(e => e.IsDefault)} default entries; expected at most one");
        }
    }

    /// <summary>torchvision's published weights for the zoo's models.</summary>
    public static WeightsCatalog Default => standard.Value;

    /// <summary>This catalog and <paramref name="more"/> entries, checked as one catalog (each source of weights, an
    /// <see cref="IWeightsSource"/> per entry, adds itself this way; the catalog knows only the interface).</summary>
    public WeightsCatalog With(IEnumerable<WeightsEntry> more) => new([.. entries, .. more]);

    /// <summary>The 1,000 ImageNet-1k category names in class-index order, as torchvision's weights carry them.</summary>
    public static IReadOnlyList<string> ImageNetCategories => imageNetCategories.Value;

    /// <summary>Every entry, in catalog order (by model, then as the publisher lists them).</summary>
    public IReadOnlyList<WeightsEntry> Entries => entries;

    /// <summary>
    /// The entry for <paramref name="model"/> and <paramref name="weights"/> (a name such as <c>IMAGENET1K_V2</c>, or
    /// <c>DEFAULT</c>), both case-insensitive. An unknown name gets an error that lists what there is.
    /// </summary>
    public WeightsEntry Get(string model, string weights = DefaultName)
        => TryGet(model, weights, out var entry) ? entry : throw new InvalidChoiceException(Missing(model, weights));

    /// <summary>Like <see cref="Get"/>, without the error.</summary>
    public bool TryGet(string model, string weights, out WeightsEntry entry)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(weights);
        var found = entries.FirstOrDefault(e => string.Equals(e.Model, model, StringComparison.OrdinalIgnoreCase)
            && (string.Equals(weights, DefaultName, StringComparison.OrdinalIgnoreCase) ? e.IsDefault
                : string.Equals(e.Name, weights, StringComparison.OrdinalIgnoreCase)));
        entry = found!;
        return found is not null;
    }

    /// <summary>The entries of <paramref name="model"/>, in catalog order.</summary>
    public IEnumerable<WeightsEntry> For(string model)
        => entries.Where(e => string.Equals(e.Model, model, StringComparison.OrdinalIgnoreCase));

    string Missing(string model, string weights)
    {
        var forModel = For(model).ToList();
        if (forModel.Count == 0)
            return $"no pretrained weights for model '{model}'; models with weights: {string.Join(", ", entries.Select(e => e.Model).Distinct())}";
        string names = string.Join(", ", forModel.Select(e => e.IsDefault ? $"{e.Name} ({DefaultName})" : e.Name));
        return string.Equals(weights, DefaultName, StringComparison.OrdinalIgnoreCase)
            ? $"model '{model}' has no default weights; name one of: {names}"
            : $"no weights named '{weights}' for {model}; it has: {names}";
    }

    /// <summary>
    /// Builds <paramref name="model"/> with the weights <paramref name="weights"/> loaded (fetched into the cache first
    /// when needed), and the weights' preprocessing and category names attached.
    /// <para>The model is built as its weights require (the entry's <see cref="WeightsEntry.Options"/>, overridden by
    /// <paramref name="options"/>) and loaded strictly; a GoogLeNet file's auxiliary heads are dropped when the model
    /// has none, and the load report lists them as skipped. <paramref name="numClasses"/> null keeps the published
    /// classifier and its categories; a number gives a freshly initialised classifier for that many classes (for
    /// fine-tuning; required for weights without a classifier). The model is in training mode, as torchvision returns
    /// it; call <c>eval()</c> to predict.</para>
    /// </summary>
    /// <param name="cache">Folders and mirror; default <see cref="WeightsCache.FromEnvironment()"/>.</param>
    /// <param name="log">Download and conversion messages; default standard error.</param>
    /// <param name="progress">Download progress; nothing is reported when the file is in the cache.</param>
    public PretrainedModel Create(string model, string weights = DefaultName, int? numClasses = null, ModelOptions? options = null,
                                  WeightsCache? cache = null, Action<string>? log = null, Action<DownloadProgress>? progress = null)
    {
        return Build(Get(model, weights), null, numClasses, options, cache ?? WeightsCache.FromEnvironment(), log ?? Console.Error.WriteLine, progress);
    }

    /// <summary>
    /// The one way in for "a model with weights": <paramref name="weights"/> is a weights name of
    /// <paramref name="model"/> (as in <see cref="Create"/>) or a file. A file whose name is a published one
    /// (<c>resnet50-11ad3fa6.pth</c>) is that entry, read from where it lies (no network). Any other file is loaded as
    /// it is, strictly; the class count comes from its classifier, and what it is comes from its
    /// <see cref="WeightsSidecar"/> when it has one (the registry model and options, class names, preprocessing),
    /// otherwise from <paramref name="model"/> with torchvision's ImageNet preprocessing (RGB models) or a plain
    /// one at the model's input size (grey models). <paramref name="model"/> may be null for a file with a sidecar.
    /// </summary>
    /// <exception cref="FileNotFoundException">The weights are neither a file nor a name of the model.</exception>
    public PretrainedModel Load(string? model, string weights, int? numClasses = null, ModelOptions? options = null,
                                WeightsCache? cache = null, Action<string>? log = null, Action<DownloadProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        cache ??= WeightsCache.FromEnvironment();
        log ??= Console.Error.WriteLine;
        var (entry, at, sidecar) = Locate(model, weights, cache);
        if (entry is not null) return Build(entry, null, numClasses, options, at, log, progress);
        string architecture = sidecar?.Model ?? model!;
        var file = new WeightsEntry
        {
            Model = model ?? architecture,
            Name = Path.GetFileName(weights),
            Architecture = architecture,
            Options = sidecar?.ModelOptions ?? new Dictionary<string, string>(),
            Categories = sidecar?.Classes,
            Preprocessing = sidecar?.Preprocessing ?? Preprocessing.ImageNet,
            Source = new LocalWeightsFile(weights),
            Description = sidecar is null ? "a weights file" : $"a weights file described by {WeightsSidecar.PathFor(weights)}",
        };
        return Build(file, sidecar, numClasses, options, cache, log, progress);
    }

    /// <summary>What <see cref="Load"/> will read, said before it reads it: the entry, and the cached file or the
    /// address it is downloaded from (with its size when the catalog knows it), or the file.</summary>
    public string Describe(string? model, string weights, WeightsCache? cache = null)
    {
        var (entry, at, _) = Locate(model, weights, cache ?? WeightsCache.FromEnvironment());
        if (entry is null) return $"the file {weights}";
        string local = entry.Source.LocalPath(at);
        string from = entry.Source is PublishedFile file
            ? at.UrlFor(file) + (file.FileSize is long bytes ? $" ({bytes / 1e6:F1} MB)" : "")
            : entry.Source.Origin;
        return File.Exists(local)
            ? $"loading {entry} from the cache ({local})"
            : $"loading {entry}, first fetched from {from} into {local}";
    }

    /// <summary>Throws the error <see cref="Load"/> would for weights that are neither a file nor a name of
    /// <paramref name="model"/> (or a file without a sidecar and no model), before any slow work.</summary>
    public void Check(string? model, string weights) => Locate(model, weights, WeightsCache.FromEnvironment());

    /// <summary>The catalog entry the weights are (by name, or by a published file's name) and the cache to read it
    /// from; no entry for a file that no entry describes. A file's sidecar, read once here, comes with it.</summary>
    (WeightsEntry? Entry, WeightsCache Cache, WeightsSidecar? Sidecar) Locate(string? model, string weights, WeightsCache cache)
    {
        if (File.Exists(weights))
        {
            var sidecar = WeightsSidecar.Read(weights);
            if (model is null && sidecar is null)
                throw new InvalidChoiceException(
                    $"--weights {weights}: the file does not say which model it fits (no {Path.GetFileName(WeightsSidecar.PathFor(weights))} beside it); name the model with --model");
            if (model is not null && sidecar is not null && !Fits(model, sidecar.Model))
                throw new InvalidChoiceException(
                    $"--weights {weights}: the file holds {sidecar.Model} weights (says {WeightsSidecar.PathFor(weights)}), not {model}; " +
                    $"use --model {sidecar.Model} or leave --model out");
            string fileName = Path.GetFileName(weights);
            var published = model is null ? null
                : entries.FirstOrDefault(e => string.Equals(e.Model, model, StringComparison.OrdinalIgnoreCase)
                                              && e.Source is PublishedFile f && f.FileName == fileName);
            // The published file at hand serves as the cache copy: no network, and the hash-named file is the same.
            return (published, cache with { CheckpointsDirectory = Path.GetDirectoryName(Path.GetFullPath(weights))! }, sidecar);
        }
        if (model is null)
            throw new FileNotFoundException($"--weights: '{weights}' is not a file; a weights name needs --model (see 'models --weights')", weights);
        if (TryGet(model, weights, out var entry)) return (entry, cache, null);
        var names = For(model).Select(e => e.Name).ToList();
        string known = names.Count == 0
            ? $"{model} has no published weights (models with weights: {string.Join(", ", entries.Select(e => e.Model).Distinct())})"
            : $"{model} has the weights {string.Join(", ", names)} and {DefaultName}";
        throw new FileNotFoundException($"--weights: '{weights}' is neither a file nor a weights name; {known} ('cnnzoo models --weights' lists them all)", weights);
    }

    /// <summary>True when weights built as registry model <paramref name="architecture"/> fit <paramref name="model"/>:
    /// the same name, or a catalog model built as it (resnet18_2223 is a resnet18).</summary>
    bool Fits(string model, string architecture)
        => string.Equals(model, architecture, StringComparison.OrdinalIgnoreCase)
           || For(model).Any(e => string.Equals(e.Architecture, architecture, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Reads the entry's state dict, builds its architecture with the class count it needs (the published one, the
    /// file's classifier, or <paramref name="numClasses"/> for weights without one), loads strictly, then gives a
    /// fresh classifier when <paramref name="numClasses"/> asks for one. A file without a <paramref name="sidecar"/>
    /// gets <see cref="DefaultPreprocessing"/>.
    /// </summary>
    static PretrainedModel Build(WeightsEntry entry, WeightsSidecar? sidecar, int? numClasses, ModelOptions? options, WeightsCache cache,
                                 Action<string> log, Action<DownloadProgress>? progress)
    {
        // A catalog backbone is known to have no classifier before anything is fetched; a file only once it is read.
        bool file = entry.Source is LocalWeightsFile;
        if (entry.NumClasses is null && numClasses is null && !file) throw NoClassifier(entry);
        string location = entry.Source.LocalPath(cache);
        var buildOptions = new ModelOptions(entry.Options.Concat(options?.ToDictionary() ?? []));
        var stateDict = entry.Source.Read(cache, log, progress);
        ZooModel? zoo = null;
        try
        {
            zoo = ModelRegistry.Create(entry.Architecture, entry.NumClasses ?? numClasses, buildOptions);
            bool hasClassifier = stateDict.TryGetValue(zoo.ClassifierName + ".weight", out var head);
            if (!hasClassifier && numClasses is null) throw NoClassifier(entry);
            if (hasClassifier && (int)head!.shape[0] != zoo.NumClasses) zoo.ResetClassifier((int)head.shape[0]);
            var report = Weights.Load(zoo, stateDict, $"{entry} ({location})", strict: true, hasClassifier ? [] : [zoo.ClassifierName]);
            if (numClasses is int classes && hasClassifier) zoo.ResetClassifier(classes);
            var preprocessing = file && sidecar is null ? DefaultPreprocessing(zoo) : entry.Preprocessing;
            return new PretrainedModel(zoo, entry, report, numClasses is null ? entry.Categories : null, preprocessing, location, sidecar);
        }
        catch
        {
            zoo?.Dispose();
            throw;
        }
        finally
        {
            foreach (var t in stateDict.Values) t.Dispose();
        }
    }

    static InvalidChoiceException NoClassifier(WeightsEntry entry)
        => new($"{entry} holds no classifier (it is a backbone); give a number of classes for a new head");

    /// <summary>For weights that say nothing about their preprocessing: torchvision's ImageNet default for an RGB
    /// model; for a grey one its input size and mean/std 0.5.</summary>
    static Preprocessing DefaultPreprocessing(ZooModel model)
        => model.Input.Channels == 3 ? Preprocessing.ImageNet
           : new Preprocessing(model.Input.Height, model.Input.Height, [.. Enumerable.Repeat(0.5, model.Input.Channels)],
                               [.. Enumerable.Repeat(0.5, model.Input.Channels)]);

    /// <summary>
    /// Reads a catalog file as <c>tools/catalog/make_weights_catalog.py</c> writes it. Each entry's hash prefix must
    /// be the one in its file name, each default must name an entry, and every category list must have one name per
    /// class; <paramref name="categories"/> turns a category-list name (<c>imagenet-1k</c>) into the names.
    /// </summary>
    /// <param name="source">Names the file in errors.</param>
    /// <exception cref="InvalidDataException">The file does not hold what the generator writes.</exception>
    public static IReadOnlyList<WeightsEntry> Parse(string json, Func<string, IReadOnlyList<string>> categories, string source)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(categories);
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            var defaults = root.GetProperty("defaults").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
            var result = new List<WeightsEntry>();
            foreach (var item in root.GetProperty("weights").EnumerateArray())
            {
                string model = item.GetProperty("model").GetString()!;
                string name = item.GetProperty("name").GetString()!;
                var file = new PublishedFile(item.GetProperty("url").GetString()!, OptionalLong(item, "file_size"));
                string stated = item.GetProperty("sha256_prefix").GetString()!;
                if (file.FileName != item.GetProperty("file_name").GetString() || file.Sha256Prefix != stated)
                    throw new InvalidDataException($"{model} {name}: file name and hash prefix ({item.GetProperty("file_name")}, {stated}) do not match its URL {file.Url}");
                int classes = item.GetProperty("num_classes").GetInt32();
                var names = categories(item.GetProperty("categories").GetString()!);
                if (names.Count != classes)
                    throw new InvalidDataException($"{model} {name}: {classes} classes but {names.Count} category names");
                var p = item.GetProperty("preprocessing");
                result.Add(new WeightsEntry
                {
                    Model = model,
                    Name = name,
                    IsDefault = defaults.TryGetValue(model, out var best) && best == name,
                    Options = item.GetProperty("model_options").EnumerateObject().ToDictionary(o => o.Name, o => OptionText(o.Value)),
                    NumClasses = classes,
                    Categories = names,
                    Preprocessing = new Preprocessing(p.GetProperty("resize_size").GetInt32(), p.GetProperty("crop_size").GetInt32(),
                        Doubles(p.GetProperty("mean")), Doubles(p.GetProperty("std")), p.GetProperty("interpolation").GetString()!),
                    Source = file,
                    NumParams = OptionalLong(item, "num_params"),
                    Acc1 = OptionalDouble(item, "acc1"),
                    Acc5 = OptionalDouble(item, "acc5"),
                    Recipe = item.TryGetProperty("recipe", out var recipe) ? recipe.GetString() : null,
                });
            }
            foreach (var (model, name) in defaults)
            {
                if (!result.Any(e => e.Model == model && e.Name == name))
                    throw new InvalidDataException($"the default of {model} is {name}, which is not an entry");
            }
            return result;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException)
        {
            throw new InvalidDataException($"weights catalog {source}: {e.Message}; expected the format tools/catalog/make_weights_catalog.py writes", e);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"weights catalog {source}: {e.Message}", e);
        }
    }

    static IReadOnlyList<string> ImageNetCategoriesFor(string name)
        => name == "imagenet-1k" ? ImageNetCategories : throw new InvalidDataException($"unknown category list '{name}'; expected imagenet-1k");

    static string OptionText(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.String => value.GetString()!,
        _ => value.GetRawText(),
    };

    static double[] Doubles(JsonElement array) => [.. array.EnumerateArray().Select(v => v.GetDouble())];

    static long? OptionalLong(JsonElement item, string name)
        => item.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : null;

    static double? OptionalDouble(JsonElement item, string name)
        => item.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    static string ReadResource(string name)
    {
        using var stream = typeof(WeightsCatalog).Assembly.GetManifestResourceStream(name)
                           ?? throw new InvalidOperationException($"resource {name} is missing from {typeof(WeightsCatalog).Assembly.GetName().Name}; rebuild Cnn.Transfer");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    static IReadOnlyList<string> ReadLines(string resource)
        => ReadResource(resource).Split('\n').Where(line => line.Length > 0).ToArray();
}
