using System.Globalization;
using System.Text;
using System.Text.Json;
using Cnn.Training.Data;
using Cnn.Training.Training;
using Cnn.Transfer;
using Cnn.Transfer.Catalog;
using Cnn.Zoo.IO;

namespace Cnn.Training.Handoff;

/// <summary>
/// Writes a folder that PyTorch's distributed training runs as it is (<c>torchrun --nproc_per_node N train.py</c>;
/// TorchSharp has no DistributedDataParallel) and whose result Cnn.Zoo loads back: the weights (<c>model.pt</c>,
/// torchvision keys) with their <see cref="WeightsSidecar"/> (<c>model.json</c>), the split as lists of image files, the fine-tune
/// recipe and per-parameter facts the script needs (<c>handoff.json</c>), and the project's own Python files,
/// <c>train.py</c> and <c>zoo_models.py</c>, copied verbatim from this folder of the source tree. Every fact the
/// script uses is computed here, by the code that training in .NET uses (layer numbers, heads and discriminative
/// learning rates from Cnn.Transfer), and written as data; no Python is generated.
/// </summary>
public static class HandoffFolder
{
    public const string Weights = "model.pt";
    public const string Description = "handoff.json";
    public const string TrainList = "train.tsv";
    public const string HeldOutList = "held_out.tsv";
    public const string Script = "train.py";
    public const string Models = "zoo_models.py";
    public const string Readme = "README.md";

    /// <summary>Where IDX and CIFAR-10 images are written as PNG files, inside the folder.</summary>
    public const string ImagesFolder = "data";

    static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    /// <summary>
    /// Writes the handoff of <paramref name="run"/> into <paramref name="folder"/>, which must be missing or empty
    /// (<see cref="EnsureEmpty"/>), with <paramref name="recipe"/> and <paramref name="seed"/> as the script's defaults.
    /// </summary>
    public static void Write(HandoffRun run, string folder, FinetuneRecipe recipe, int seed)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(recipe);
        folder = Path.GetFullPath(folder);
        EnsureEmpty(folder);
        Directory.CreateDirectory(folder);

        string weights = Path.Combine(folder, Weights);
        Cnn.Transfer.Weights.Save(run.Model, weights);
        new WeightsSidecar(run.Architecture, run.ModelOptions, run.Classes, run.Preprocessing, run.Split).Write(weights);

        var (root, train, heldOut, images) = Lists(run, folder);
        AtomicFile.WriteAllText(Path.Combine(folder, TrainList), train);
        AtomicFile.WriteAllText(Path.Combine(folder, HeldOutList), heldOut);

        var description = new
        {
            Format = "cnnzoo-handoff/1",
            run.Source,
            Model = new { Name = run.Architecture, Options = run.ModelOptions, NumClasses = run.Classes.Count, InputChannels = run.Model.Input.Channels },
            Weights,
            Sidecar = Path.GetFileName(WeightsSidecar.PathFor(weights)),
            Data = new
            {
                run.Data, Root = root, Train = TrainList, HeldOut = HeldOutList, TrainImages = run.Train.Count, HeldOutImages = run.HeldOut.Count,
                Split = new { run.Split.Data, run.Split.ValidationFraction, run.Split.Seed, run.Split.Files },
            },
            Recipe = new
            {
                Optimizer = "adam", recipe.Epochs, recipe.UnfreezeEpochs, Lr = recipe.LearningRate, UnfrozenLr = recipe.UnfrozenLearningRate,
                recipe.Freeze, BnStats = recipe.NormStatistics, recipe.BatchSize, Seed = seed, recipe.Workers, recipe.DecayPerGroup, recipe.Groups,
            },
            Parameters = ParameterRows(run, recipe),
        };
        AtomicFile.WriteAllText(Path.Combine(folder, Description), JsonSerializer.Serialize(description, Json));

        CopyResource(Script, folder);
        CopyResource(Models, folder);
        AtomicFile.WriteAllText(Path.Combine(folder, Readme), ReadmeText(run, root, images));
    }

    /// <summary>A handoff goes into a folder of its own, missing or empty: an <see cref="IOException"/> otherwise, as
    /// it never overwrites. Called first by the verb, before any slow work.</summary>
    public static void EnsureEmpty(string folder)
    {
        if (File.Exists(folder))
            throw new IOException($"{folder}: expected a new or empty folder for the handoff; found a file");
        if (Directory.Exists(folder) && Directory.EnumerateFileSystemEntries(folder).Take(3).ToList() is { Count: > 0 } entries)
            throw new IOException(
                $"{folder}: expected a new or empty folder for the handoff; found {string.Join(", ", entries.Select(Path.GetFileName))}" +
                (entries.Count == 3 ? " and more" : "") + " in it. Name another folder (a handoff never overwrites)");
    }

    /// <summary>
    /// The lists of training and held-out images ("path TAB label" lines) and the folder their paths are relative to:
    /// the image folder itself (absolute, not copied), or, for IDX and CIFAR-10 data, <c>data/</c> inside the handoff,
    /// where the images are first written as PNG files (lossless, so PyTorch reads the values Cnn.Zoo trains on).
    /// </summary>
    static (string Root, string Train, string HeldOut, string Images) Lists(HandoffRun run, string folder)
    {
        if (DataSources.IsImageFolder(run.Data))
        {
            string root = DataSplit.Identify(run.Data);
            return (root, List(run.Train, i => run.Train.Describe(i), root), List(run.HeldOut, i => run.HeldOut.Describe(i), root),
                    $"The lists name files of the image folder `{root}`, which is not copied: where it lies elsewhere (another machine), pass `--data-root`.");
        }
        string images = Path.Combine(folder, ImagesFolder);
        var trainFiles = DatasetExport.ToImageFolder(run.Train, Path.Combine(images, "train"));
        var heldOutFiles = DatasetExport.ToImageFolder(run.HeldOut, Path.Combine(images, "held_out"));
        return (ImagesFolder, List(run.Train, i => trainFiles[i], images), List(run.HeldOut, i => heldOutFiles[i], images),
                $"The images of {run.Data} were written as PNG files to `{ImagesFolder}/train` and `{ImagesFolder}/held_out` (its training and test sets), so the lists name files.");
    }

    static string List(IImageDataset data, Func<int, string> file, string root)
    {
        var text = new StringBuilder();
        for (int i = 0; i < data.Count; i++)
        {
            string relative = Path.GetRelativePath(root, file(i)).Replace(Path.DirectorySeparatorChar, '/');
            if (relative.AsSpan().IndexOfAny('\t', '\n', '\r') >= 0)
                throw new InvalidDataException($"{file(i)}: expected a file name without tabs or line breaks, which the image lists cannot hold; rename the file");
            text.Append(relative).Append('\t').Append(data.LabelOf(i).ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>
    /// One row per parameter, in the model's order: its weight layer (what <c>--freeze N</c> freezes), whether it is
    /// the head (what <c>all-but-head</c> leaves trainable), and its share of the head's learning rate once everything
    /// is unfrozen: Cnn.Transfer's own answers, so the script freezes and groups exactly as <c>finetune</c> does.
    /// </summary>
    static List<object> ParameterRows(HandoffRun run, FinetuneRecipe recipe)
    {
        var model = run.Model;
        Freezing.Unfreeze(model);
        var layers = Freezing.LayerNumbers(model);
        var heads = Freezing.Heads(model);
        var share = new Dictionary<IntPtr, double>();
        foreach (var group in ParameterGroups.Discriminative(model, 1.0, recipe.DecayPerGroup, recipe.Groups))
            foreach (var parameter in group.Parameters) share[parameter.Handle] = group.LearningRate;
        return [.. model.named_parameters().Select(p => (object)new
        {
            p.name,
            Layer = layers.TryGetValue(p.name, out int number) ? number : (int?)null,
            Head = heads.Any(h => p.name == h || p.name.StartsWith(h + ".", StringComparison.Ordinal)),
            UnfrozenLrShare = share[p.parameter.Handle],
        })];
    }

    static void CopyResource(string name, string folder)
    {
        using var stream = typeof(HandoffFolder).Assembly.GetManifestResourceStream("Cnn.Training.Handoff." + name)
                           ?? throw new InvalidOperationException($"the build lost its embedded {name} (Cnn.Training.csproj)");
        AtomicFile.Write(Path.Combine(folder, name), stream.CopyTo);
    }

    static string ReadmeText(HandoffRun run, string root, string images)
    {
        using var stream = typeof(HandoffFolder).Assembly.GetManifestResourceStream("Cnn.Training.Handoff." + Readme)
                           ?? throw new InvalidOperationException($"the build lost its embedded {Readme} (Cnn.Training.csproj)");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd()
            .Replace("{{model}}", run.Architecture, StringComparison.Ordinal)
            .Replace("{{source}}", run.Source, StringComparison.Ordinal)
            .Replace("{{data_root}}", root == ImagesFolder ? $"`{ImagesFolder}/`" : $"`{root}`", StringComparison.Ordinal)
            .Replace("{{images}}", images, StringComparison.Ordinal)
            .Replace("{{data}}", DataSplit.Identify(run.Data) is var data && data.Contains(' ', StringComparison.Ordinal) ? $"'{data}'" : data, StringComparison.Ordinal);
    }
}
