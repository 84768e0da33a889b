using Cnn.Transfer;
using Cnn.Zoo;
using Cnn.Zoo.Models;

namespace Cnn.Training.Data;

/// <summary>Fits data to a model: the preprocessing training records, the transforms it implies, and the loaders.</summary>
public static class DataSetup
{
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

    /// <summary>The training loader (shuffled) and the held-out loader (in order) for given transforms. Both use
    /// <paramref name="batchSize"/>: doubling it for the held-out images, as GPU recipes do because evaluation keeps no
    /// gradients, made a CPU slower (ResNet-18 at 112 px on 2 cores: 115 images/s at 64 against 133 at 32, the
    /// activations no longer fitting its caches).</summary>
    public static (DataLoader Train, DataLoader Test) Loaders(IImageDataset trainSet, IImageDataset testSet,
        (ITransform Train, ITransform Eval) transforms, int batchSize, int workers, int seed)
        => (new DataLoader(trainSet, transforms.Train, batchSize, shuffle: true, seed, workers),
            new DataLoader(testSet, transforms.Eval, batchSize, shuffle: false, seed, workers));

    /// <summary>
    /// Transforms from a sample of <paramref name="geometry"/> to the model's input, for
    /// <paramref name="preprocessing"/>: the model's channel count (colour reduced to PIL's grey level for a grey model,
    /// first; grey repeated for an RGB model, after the geometry: <see cref="Transforms.ToChannels"/>); for images the
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
        // Colour is reduced to grey before the geometry (PIL's luma rounds to whole grey levels, so it does not commute
        // with resizing); grey is repeated to RGB after it, which gives the same pixels as before it (every geometric
        // step works plane by plane) for a third of the resizing (about 1 ms of the 2 cores per 112-px image).
        var channels = ChannelSteps(geometry, input);
        var (first, last) = geometry.Channels < input.Channels ? ([], channels) : (channels, new List<ITransform>());
        int crop = preprocessing.CropSize;
        var train = new List<ITransform>(first);
        var eval = new List<ITransform>(first);
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
        train.AddRange(last);
        eval.AddRange(last);
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
