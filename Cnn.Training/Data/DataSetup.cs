using Cnn.Transfer;
using Cnn.Zoo;
using Cnn.Zoo.Models;

namespace Cnn.Training.Data;

/// <summary>Finds the data a verb names and builds the transforms that fit it to a model.</summary>
public static class DataSetup
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
                $"--data {data}: the shipped data/ folder was not found above {Directory.GetCurrentDirectory()}; pass a folder instead");
            folder = Path.Combine(root, data);
        }
        if (!Directory.Exists(folder))
            throw new InvalidChoiceException($"--data: expected mnist, fashion-mnist or a folder; '{data}' is neither");
        bool Has(string prefix) => Directory.EnumerateFiles(folder).Any(f => Path.GetFileName(f).StartsWith(prefix, StringComparison.Ordinal));
        if (Has("train-images-idx3-ubyte")) return (folder, Datasets.IdxFolder(folder), $"IDX files in {folder}");
        if (Has("data_batch_1")) return (folder, Datasets.Cifar10(folder), $"CIFAR-10 batches in {folder}");
        return (folder, null, $"image folder {folder}");
    }

    static string LeftOut(ImageFolderDataset all, string folder) => all.LeftOut.Count == 0 ? "" :
        $"; {DataFiles.Plural(all.LeftOut.Count, "unreadable file")} left out: " +
        string.Join(", ", all.LeftOut.Take(3).Select(f => Path.GetRelativePath(folder, f.Path))) +
        (all.LeftOut.Count > 3 ? $" and {DataFiles.Thousands(all.LeftOut.Count - 3)} more" : "");

    /// <summary>Channel statistics for training from scratch on <paramref name="data"/>: ImageNet's for RGB models,
    /// the shipped sets' own for grey ones, 0.5 otherwise.</summary>
    public static (IReadOnlyList<double> Mean, IReadOnlyList<double> Std) Normalisation(string data, int channels)
    {
        if (channels == 3) return (Preprocessing.ImageNetMean, Preprocessing.ImageNetStd);
        return data switch
        {
            "mnist" => ([0.1307], [0.3081]),
            "fashion-mnist" => ([0.2860], [0.3530]),
            _ => ([.. Enumerable.Repeat(0.5, channels)], [.. Enumerable.Repeat(0.5, channels)]),
        };
    }

    /// <summary>
    /// How training from scratch prepares images of <paramref name="geometry"/> for a square input of
    /// <paramref name="size"/>, recorded in the checkpoint so every verb evaluates the same way: the data's
    /// statistics (<see cref="Normalisation"/>); square images of the size or a few pixels smaller are padded (MNIST's
    /// 28 to LeNet's 32, <see cref="Preprocessing.PadSmallSquares"/>); anything else is resized, to the size itself, or
    /// after random-resized-crop training at 64 px or more to size / 0.875 (torchvision's reference recipe).
    /// <para>Evaluation sees the images at the scale training saw them. Without augmentation training resizes the
    /// shorter side to the size and centre-crops, and so does evaluation. With random-resized crops, which zoom in on
    /// average, evaluation resizes to size / 0.875. Resizing to size / 0.875 without augmentation evaluated the model
    /// 14% zoomed in and cost 4 points of accuracy in the README's fine-tuning run.</para>
    /// </summary>
    public static Preprocessing ForTraining(string data, SampleGeometry geometry, int channels, int size, bool augment)
    {
        var (mean, std) = Normalisation(data, channels);
        var padded = new Preprocessing(size, size, mean, std) { PadSmallSquares = true };
        if (geometry is { Height: int h, Width: int w } && padded.PaddingFor(h, w) is not null) return padded;
        int resize = augment && size >= 64 ? (int)Math.Round(size / 0.875) : size;
        return new Preprocessing(resize, size, mean, std);
    }

    /// <summary>
    /// The loaders that fit <paramref name="trainSet"/> and <paramref name="testSet"/> to a model trained from
    /// scratch: <see cref="ForTraining"/>'s preprocessing, a shuffled training loader and an in-order held-out loader
    /// with twice the batch (no gradients to keep, so it fits). The one loader setup of train, finetune and the benchmark.
    /// </summary>
    public static (DataLoader Train, DataLoader Test, Preprocessing Preprocessing) Loaders(
        string data, IImageDataset trainSet, IImageDataset testSet, InputSpec input, int size, bool augment, int batchSize,
        int workers, int seed)
    {
        var preprocessing = ForTraining(data, trainSet.Geometry, input.Channels, size, augment);
        var (train, test) = Loaders(trainSet, testSet, Pipeline(trainSet.Geometry, input, preprocessing, augment), batchSize, workers, seed);
        return (train, test, preprocessing);
    }

    /// <summary>The training loader (shuffled) and the held-out loader (in order, double batches) for given transforms.</summary>
    public static (DataLoader Train, DataLoader Test) Loaders(IImageDataset trainSet, IImageDataset testSet,
        (ITransform Train, ITransform Eval) transforms, int batchSize, int workers, int seed)
        => (new DataLoader(trainSet, transforms.Train, batchSize, shuffle: true, seed, workers),
            new DataLoader(testSet, transforms.Eval, batchSize * 2, shuffle: false, seed, workers));

    /// <summary>
    /// Transforms from a sample of <paramref name="geometry"/> to the model's input, for
    /// <paramref name="preprocessing"/>: first the model's channel count (grey repeated for an RGB model, colour
    /// reduced to PIL's grey level for a grey one: <see cref="Transforms.ToChannels"/>); then, for images the
    /// preprocessing pads (<see cref="Preprocessing.PaddingFor"/>), the border (random crops of the padded image when
    /// <paramref name="augment"/>); for all others, evaluation resizes the shorter side to
    /// <see cref="Preprocessing.ResizeSize"/> and centre-crops <see cref="Preprocessing.CropSize"/>, and training does
    /// the same or takes random-resized crops when <paramref name="augment"/>. Colour images are flipped when
    /// augmenting (mirrored digits are not digits). Last, normalisation. Train, finetune, eval, predict and explain all
    /// build their transforms here.
    /// </summary>
    public static (ITransform Train, ITransform Eval) Pipeline(SampleGeometry geometry, InputSpec input, Preprocessing preprocessing,
                                                               bool augment)
    {
        ArgumentNullException.ThrowIfNull(preprocessing);
        if (preprocessing.Interpolation != "bilinear")
            throw new InvalidChoiceException($"preprocessing: only bilinear resizing is implemented; the weights ask for '{preprocessing.Interpolation}'");
        if (preprocessing.Mean.Count != input.Channels)
            throw new InvalidChoiceException($"preprocessing has statistics for {preprocessing.Mean.Count} channel(s) but the model expects {input.Channels}");
        var common = ChannelSteps(geometry, input);
        int crop = preprocessing.CropSize;
        var train = new List<ITransform>(common);
        var eval = new List<ITransform>(common);
        if (geometry is { Height: int h, Width: int w } && preprocessing.PaddingFor(h, w) is int border)
        {
            if (augment) train.Add(Transforms.RandomCrop(crop, border == 0 ? crop / 8 : border));
            else if (border > 0) train.Add(Transforms.Pad(border));
            if (border > 0) eval.Add(Transforms.Pad(border));
        }
        else
        {
            ITransform[] evalGeometry = [Transforms.Resize(preprocessing.ResizeSize), Transforms.CenterCrop(crop, crop)];
            if (augment) train.Add(Transforms.RandomResizedCrop(crop));
            else train.AddRange(evalGeometry);
            eval.AddRange(evalGeometry);
        }
        // Mirroring suits photographs, not digits or letters: only colour data for a colour model is flipped.
        if (augment && geometry.Channels == 3 && input.Channels == 3) train.Add(Transforms.HorizontalFlip());
        var normalize = Transforms.Normalize(preprocessing);
        train.Add(normalize);
        eval.Add(normalize);
        return (Transforms.Compose([.. train]), Transforms.Compose([.. eval]));
    }

    /// <summary>The model's channel count: grey repeated for an RGB model, colour reduced to PIL's grey level for a grey one.</summary>
    static List<ITransform> ChannelSteps(SampleGeometry geometry, InputSpec input)
    {
        if (geometry.Channels == input.Channels) return [];
        if (geometry.Channels is not (1 or 3) || input.Channels is not (1 or 3))
            throw new InvalidChoiceException(
                $"the data has {geometry.Channels}-channel images but the model expects {input.Channels}; " +
                "only grey (1) and RGB (3) convert into each other: use data with the model's channel count");
        return [Transforms.ToChannels(input.Channels)];
    }
}
