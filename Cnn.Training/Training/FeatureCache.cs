using Cnn.Training.Data;
using Cnn.Zoo.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using DataLoader = Cnn.Training.Data.DataLoader;

namespace Cnn.Training.Training;

/// <summary>
/// Training a head on a frozen body without running the body every epoch: the body's output
/// (<see cref="ZooModel.ForwardFeatures"/>) for every training and held-out image is computed once and kept in memory,
/// and the head (<see cref="ZooModel.ForwardHead"/>) trains on it, as fastai and Keras users do by hand ("bottleneck
/// features"). The results are those of training on the images, to float rounding: the same batches in the same
/// order, the same head modules, and the body computes the same in training as in evaluation (frozen batch norms keep
/// their statistics, and no zoo model has dropout before its head: FeatureCacheTests runs every family's body twice in
/// training mode). The one pass runs in ONNX Runtime on a CPU (<see cref="InferencePass"/>), which changes the features
/// only by float rounding and is 2-2.5x faster than libtorch here. It applies only when the body is frozen and nothing is augmented: see <see cref="WhyNot"/>.
/// </summary>
public static class FeatureCache
{
    /// <summary>Features kept in memory at most; a larger set trains on the images.</summary>
    public const long MaxBytes = 4L << 30;

    /// <summary>
    /// Null when the head of <paramref name="model"/> can train on cached features; otherwise why not: a trainable
    /// parameter outside the classifier (a batch norm among them would also update its statistics), augmentation
    /// (each epoch sees other pixels), or auxiliary classifiers that read the body.
    /// </summary>
    public static string? WhyNot(ZooModel model, bool augment)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (augment) return "augmentation changes the images every epoch";
        if (model is IAuxiliaryClassifiers { HasAuxiliary: true }) return "the auxiliary classifiers read the body";
        string head = model.ClassifierName;
        bool InHead(string name) => name == head || name.StartsWith(head + ".", StringComparison.Ordinal);
        if (model.named_parameters().FirstOrDefault(p => p.parameter.requires_grad && !InHead(p.name)) is { name: not null } trainable)
            return $"the body is not frozen ({trainable.name} trains)";
        return null;
    }

    /// <summary>
    /// The body's output for every sample of <paramref name="images"/>, in its order, with its transform (which must
    /// be deterministic: <see cref="WhyNot"/>), as a data set whose samples are feature maps; null when they would
    /// take more than <see cref="MaxBytes"/> (or there are no images). The model is only read: the pass runs on a
    /// snapshot of its body (<see cref="InferencePass"/>, in ONNX Runtime on a CPU).
    /// </summary>
    public static CachedFeatures? Features(ZooModel model, DataLoader images, Device device, string label)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var body = new InferencePass(model, device, featuresOnly: true);
        return Features(body, images, label);
    }

    /// <summary>The same through a body pass the caller made (<see cref="InferencePass"/> with featuresOnly), so that
    /// several sets share one snapshot: exporting and opening ONNX Runtime's session took about a second for ResNet-18.</summary>
    public static CachedFeatures? Features(InferencePass body, DataLoader images, string label)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(images);
        if (!body.FeaturesOnly) throw new ArgumentException("expected a pass made with featuresOnly: true", nameof(body));
        var loader = new DataLoader(images.Dataset, images.Transform, images.BatchSize, shuffle: false, images.Seed, images.Workers);
        var bar = new ProgressBar($"features: {label}", loader.BatchesPerEpoch);
        float[]? all = null;
        long[] shape = [];
        int perSample = 0, done = 0, batches = 0;
        using (inference_mode())   // no autograd bookkeeping at all: the features are data, not part of any graph
        {
            foreach (var batch in loader.Epoch(0))
            {
                using (batch)
                {
                    using var scope = NewDisposeScope();
                    var features = body.call(batch.Images.to(body.Device)).cpu().contiguous();
                    if (all is null)
                    {
                        shape = features.shape[1..];
                        long perSampleLong = shape.Aggregate(1L, (a, b) => a * b);
                        if (4 * perSampleLong * images.Dataset.Count > MaxBytes) return null;
                        perSample = (int)perSampleLong;
                        all = new float[perSampleLong * images.Dataset.Count];
                    }
                    var values = features.data<float>().ToArray();
                    Array.Copy(values, 0, all, (long)done * perSample, values.Length);
                    done += batch.Count;
                    bar.Update(++batches, done, "");
                }
            }
        }
        if (done != images.Dataset.Count)
            throw new InvalidDataException($"{label}: {images.Dataset.Count - done} of {images.Dataset.Count} images could not be read; the features are incomplete");
        if (all is null) return null;   // no images: nothing to cache
        var geometry = new SampleGeometry((int)shape[0], shape.Length > 1 ? (int)shape[1] : 1, shape.Length > 2 ? (int)shape[2] : 1);
        return new CachedFeatures(images.Dataset, all, geometry, perSample, body.Engine);
    }

    /// <summary>The loaders of a head trained on features: the same batch size, order, seed and workers as the image
    /// loaders they stand for, and no transform (the features are final).</summary>
    public static (DataLoader Train, DataLoader Test) Loaders(IImageDataset train, IImageDataset test, DataLoader trainImages, DataLoader testImages)
        => (new DataLoader(train, Transforms.Compose(), trainImages.BatchSize, trainImages.Shuffle, trainImages.Seed, trainImages.Workers),
            new DataLoader(test, Transforms.Compose(), testImages.BatchSize, testImages.Shuffle, testImages.Seed, testImages.Workers));

    /// <summary>The module a head trained on features goes through: the model's <see cref="ZooModel.ForwardHead"/>.
    /// The model is held, not registered: its parameters and checkpoints stay the model's own; train and eval are
    /// passed on, so the head's dropout behaves as it does in the whole model, and the state is the model's.</summary>
    public sealed class Head(ZooModel model) : nn.Module<Tensor, Tensor>($"{model.GetName()}_head")
    {
        public override Tensor forward(Tensor features)
        {
            Cnn.Zoo.Runtime.NativeSafety.SafePoint();   // between batches, as the whole model's forward does
            return model.ForwardHead(features);
        }

        public override void train(bool on = true)
        {
            base.train(on);
            model.train(on);
        }

        /// <summary>The model's state: what a caller saving and restoring "the module it trains" (the learning-rate
        /// range test) must see.</summary>
        public override Dictionary<string, Tensor> state_dict(Dictionary<string, Tensor>? destination = null, string? prefix = null)
            => model.state_dict(destination, prefix);
    }

    /// <summary>Feature maps of a data set's samples, <paramref name="size"/> values each in <paramref name="geometry"/>'s
    /// shape, with the set's labels and classes, and the engine that computed them.</summary>
    public sealed class CachedFeatures(IImageDataset source, float[] values, SampleGeometry geometry, int size, string engine) : IImageDataset
    {
        /// <summary>What ran the body: ONNX Runtime or libtorch (<see cref="InferencePass.Engine"/>).</summary>
        public string Engine => engine;

        public int Count => source.Count;

        public IReadOnlyList<string> Classes => source.Classes;

        public int LabelOf(int index) => source.LabelOf(index);

        public ImageData Load(int index)
            => new(values.AsSpan(index * size, size).ToArray(), geometry.Channels, geometry.Height!.Value, geometry.Width!.Value);

        public SampleGeometry Geometry => geometry;

        public string Describe(int index) => $"features of {source.Describe(index)}";
    }
}
