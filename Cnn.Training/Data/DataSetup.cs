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
        string folder = data;
        if (data is "mnist" or "fashion-mnist")
        {
            string root = RepositoryData() ?? throw new ArgumentException(
                $"--data {data}: the shipped data/ folder was not found above {Directory.GetCurrentDirectory()}; pass a folder instead");
            folder = Path.Combine(root, data);
        }
        if (!Directory.Exists(folder))
            throw new ArgumentException($"--data: expected mnist, fashion-mnist or a folder; '{data}' is neither");
        bool Has(string prefix) => Directory.EnumerateFiles(folder).Any(f => Path.GetFileName(f).StartsWith(prefix, StringComparison.Ordinal));
        if (Has("train-images-idx3-ubyte"))
        {
            var (train, test) = Datasets.IdxFolder(folder);
            return (train, test, $"IDX files in {folder}");
        }
        if (Has("data_batch_1"))
        {
            var (train, test) = Datasets.Cifar10(folder);
            return (train, test, $"CIFAR-10 batches in {folder}");
        }
        var all = Datasets.ImageFolder(folder, policy);
        var (t, v) = Datasets.Split(all, validation, seed);
        return (t, v, $"image folder {folder} ({all.Count} images, {all.Classes.Count} classes, {validation:P0} held out)");
    }

    /// <summary>Mean and standard deviation for normalisation: ImageNet's for RGB models, the data set's for grey.</summary>
    public static (float[] Mean, float[] Std) Normalisation(string data, int channels)
    {
        if (channels == 3) return (Transforms.ImageNetMean, Transforms.ImageNetStd);
        return data switch
        {
            "mnist" => ([0.1307f], [0.3081f]),
            "fashion-mnist" => ([0.2860f], [0.3530f]),
            _ => ([0.5f], [0.5f]),
        };
    }

    /// <summary>
    /// Transforms from a sample's shape to the model's input: grey to RGB when the model wants colour, a small
    /// zero border when the model is only slightly larger (MNIST 28 -> LeNet's 32, as in the paper), otherwise resize
    /// and crop (random-resized crop and flips when <paramref name="augment"/>), then normalisation.
    /// </summary>
    public static (ITransform Train, ITransform Eval) Pipeline(ImageData sample, InputSpec input, int size, float[] mean,
                                                               float[] std, bool augment)
    {
        var common = new List<ITransform>();
        if (sample.Channels == 1 && input.Channels == 3) common.Add(Transforms.GreyToRgb());
        else if (sample.Channels != input.Channels)
            throw new ArgumentException($"the data has {sample.Channels}-channel images but the model expects {input.Channels}");
        var train = new List<ITransform>(common);
        var eval = new List<ITransform>(common);
        int side = Math.Min(sample.Height, sample.Width);
        int gap = size - side;
        if (gap == 0 && sample.Height == sample.Width)
        {
            if (augment) train.Add(Transforms.RandomCrop(size, size / 8));
        }
        else if (gap > 0 && gap <= 8 && gap % 2 == 0 && sample.Height == sample.Width)
        {
            train.Add(augment ? Transforms.RandomCrop(size, gap / 2) : Transforms.Pad(gap / 2));
            eval.Add(Transforms.Pad(gap / 2));
        }
        else
        {
            if (augment) train.Add(Transforms.RandomResizedCrop(size));
            else { train.Add(Transforms.Resize(size)); train.Add(Transforms.CenterCrop(size, size)); }
            int resize = size < 64 ? size : (int)Math.Round(size / 0.875);
            eval.Add(Transforms.Resize(resize));
            eval.Add(Transforms.CenterCrop(size, size));
        }
        if (augment && sample.Channels == 3) train.Add(Transforms.HorizontalFlip());
        train.Add(Transforms.Normalize(mean, std));
        eval.Add(Transforms.Normalize(mean, std));
        return (Transforms.Compose([.. train]), Transforms.Compose([.. eval]));
    }

    /// <summary>
    /// The loaders that fit <paramref name="trainSet"/> and <paramref name="testSet"/> to a model: normalisation for
    /// <paramref name="data"/> (<see cref="Normalisation"/>), the transforms of <see cref="Pipeline"/>, a shuffled
    /// training loader and an in-order held-out loader with twice the batch (no gradients to keep, so it fits).
    /// The one loader setup of train, finetune and the benchmark.
    /// </summary>
    public static (DataLoader Train, DataLoader Test, float[] Mean, float[] Std) Loaders(
        string data, IImageDataset trainSet, IImageDataset testSet, InputSpec input, int size, bool augment, int batchSize,
        int workers, int seed)
    {
        var (mean, std) = Normalisation(data, input.Channels);
        var (trainTransform, evalTransform) = Pipeline(trainSet.Load(0), input, size, mean, std, augment);
        return (new DataLoader(trainSet, trainTransform, batchSize, shuffle: true, seed, workers),
                new DataLoader(testSet, evalTransform, batchSize * 2, shuffle: false, seed, workers), mean, std);
    }
}
