using Cnn.Transfer;
using Cnn.Zoo;
using Cnn.Zoo.Models;

namespace Cnn.Training.Data;

/// <summary>Finds the data a verb names (the shipped sets, IDX or CIFAR-10 folders, image folders) and splits it as a run
/// records it: what trains, what is held out, what eval scores.</summary>
public static class DataSources
{
    /// <summary>The repository's <c>data/</c> folder, searched upwards from the working directory and the program.</summary>
    public static string? RepositoryData()
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Cnn.Zoo.sln")) && Directory.Exists(Path.Combine(dir.FullName, "data")))
                    return Path.Combine(dir.FullName, "data");
            }
        }
        return null;
    }

    /// <summary>
    /// <c>mnist</c> and <c>fashion-mnist</c> name the shipped sets; otherwise a folder holding IDX files, CIFAR-10
    /// binary batches, or one sub-folder of images per class (split into train/validation by <paramref name="validation"/>).
    /// </summary>
    public static (IImageDataset Train, IImageDataset Test, string Source) Load(string data, double validation, int seed,
                                                                             BadDataPolicy policy)
    {
        var (folder, sets, source) = Open(data);
        if (sets is var (train, test)) return (train, test, source);
        var all = Datasets.ImageFolder(folder, policy);
        var (t, v) = Datasets.Split(all, validation, seed);
        return (t, v, $"image folder {folder} ({all.Count} images, {all.Classes.Count} classes, {validation * 100:0.#}% held out{LeftOut(all, folder)})");
    }

    /// <summary>
    /// The images a run trains on, as train, finetune and handoff choose them: <see cref="Load"/>, the split of all of
    /// it (what a checkpoint records), then, when <paramref name="perClass"/> is above 0, only that many training images
    /// of every class (<see cref="Datasets.Subset"/>, seeded by <paramref name="seed"/>). One place, so that a handoff
    /// of the same data, seed and count trains on exactly the images finetune did.
    /// </summary>
    public static (IImageDataset Train, IImageDataset Test, string Source, DataSplit Split) LoadForTraining(
        string data, double validation, int seed, BadDataPolicy policy, int perClass)
    {
        var (train, test, source) = Load(data, validation, seed, policy);
        var split = DataSplits.Of(data, validation, seed, train, test) with { TrainPerClass = Math.Max(0, perClass) };
        return (Kept(train, split), test, source, split);
    }

    /// <summary>
    /// The images <c>eval</c> scores: the test set of IDX or CIFAR-10 data; for an image folder, the held-out part of
    /// the split recorded in the checkpoint when it is the folder the model trained on (<paramref name="trainedOn"/>),
    /// and every image otherwise. The source line says which.
    /// </summary>
    public static (IImageDataset Test, string Source) LoadForEvaluation(string data, DataSplit? trainedOn, BadDataPolicy policy)
    {
        var (folder, sets, source) = Open(data);
        if (sets is var (_, test)) return (test, source + " (its test set)");
        var all = Datasets.ImageFolder(folder, policy);
        string described = $"image folder {folder} ({all.Count} images, {all.Classes.Count} classes{LeftOut(all, folder)})";
        if (trainedOn is not null && trainedOn.IsOf(data))
        {
            var (_, heldOut) = SplitAsRecorded(all, folder, trainedOn);
            return (heldOut, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{described}: the {100 * trainedOn.ValidationFraction:0.#}% held out in training (split seed {trainedOn.Seed}, recorded with the model)"));
        }
        return (all, trainedOn is null
            ? $"{described}: every image (no recorded split says which images the model trained on; if it trained on this folder, those are scored too)"
            : $"{described}: every image (not the folder the model trained on)");
    }

    /// <summary>
    /// The training and held-out images of a run exactly as <paramref name="split"/> recorded them: the shipped test set
    /// of IDX or CIFAR-10 data, or the recorded split of an image folder, refused (<see cref="InvalidDataException"/>)
    /// when the folder's images changed since, because the same seed would then hold out other images.
    /// </summary>
    public static (IImageDataset Train, IImageDataset HeldOut, string Source) LoadAsRecorded(DataSplit split, BadDataPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(split);
        var (folder, sets, source) = Open(split.Data);
        string kept = split.TrainPerClass > 0 ? $"; {split.TrainPerClass} training images per class kept" : "";
        if (sets is var (train, test)) return (Kept(train, split), test, source + kept);
        var all = Datasets.ImageFolder(folder, policy);
        var (trained, heldOut) = SplitAsRecorded(all, folder, split);
        return (Kept(trained, split), heldOut, string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"image folder {folder} ({all.Count} images, {all.Classes.Count} classes, the {100 * split.ValidationFraction:0.#}% held out in training (split seed {split.Seed}){LeftOut(all, folder)}){kept}"));
    }

    /// <summary>The training images a run kept: <paramref name="split"/>'s <see cref="DataSplit.TrainPerClass"/> per
    /// class, chosen by its seed, or all of them.</summary>
    static IImageDataset Kept(IImageDataset train, DataSplit split)
        => split.TrainPerClass > 0 ? Datasets.Subset(train, split.TrainPerClass, split.Seed) : train;

    /// <summary>Whether <paramref name="data"/> is an image folder (its samples are files), not IDX or CIFAR-10 data
    /// (images packed in a few large files).</summary>
    public static bool IsImageFolder(string data) => Open(data).Sets is null;

    static (IImageDataset Train, IImageDataset HeldOut) SplitAsRecorded(ImageFolderDataset all, string folder, DataSplit split)
    {
        var (trained, heldOut) = Datasets.Split(all, split.ValidationFraction, split.Seed);
        if (split.Files is string then && DataSplits.Fingerprint(trained, heldOut) is var now && now != then)
            throw new InvalidDataException(
                $"{folder}: its images changed since the checkpoint was trained on it ({then}; now {now}), so the same " +
                "split would hold out other images, some of them ones the model trained on. Use a folder of " +
                "images the model never saw (a separate test folder), or train again on the folder as it is now.");
        return (trained, heldOut);
    }

    /// <summary>The folder <paramref name="data"/> names, and its train and test sets when it ships them (IDX, CIFAR-10).</summary>
    static (string Folder, (IImageDataset Train, IImageDataset Test)? Sets, string Source) Open(string data)
    {
        string folder = data;
        if (data is "mnist" or "fashion-mnist")
        {
            string root = RepositoryData() ?? throw new InvalidChoiceException(
                $"data '{data}': the shipped data/ folder was not found above {Directory.GetCurrentDirectory()}; pass a folder instead");
            folder = Path.Combine(root, data);
        }
        if (!Directory.Exists(folder))
            throw new InvalidChoiceException($"data: expected mnist, fashion-mnist or a folder; '{data}' is neither");
        bool Has(string prefix) => Directory.EnumerateFiles(folder).Any(f => Path.GetFileName(f).StartsWith(prefix, StringComparison.Ordinal));
        if (Has("train-images-idx3-ubyte")) return (folder, Datasets.IdxFolder(folder), $"IDX files in {folder}");
        if (Has("data_batch_1")) return (folder, Datasets.Cifar10(folder), $"CIFAR-10 batches in {folder}");
        return (folder, null, $"image folder {folder}");
    }

    static string LeftOut(ImageFolderDataset all, string folder) => all.LeftOut.Count == 0 ? "" :
        $"; {DataFiles.Plural(all.LeftOut.Count, "unreadable file")} left out: " +
        string.Join(", ", all.LeftOut.Take(3).Select(f => Path.GetRelativePath(folder, f.Path))) +
        (all.LeftOut.Count > 3 ? $" and {DataFiles.Thousands(all.LeftOut.Count - 3)} more" : "");
}
