using Cnn.Zoo;
using Cnn.Zoo.Models;

namespace Cnn.Transfer.Catalog;

/// <summary>
/// A zoo model with pretrained weights loaded, and what using it needs: the weights' preprocessing and, while the
/// published classifier is kept, the name of each output class.
/// <code>
/// using var resnet = PretrainedModel.Create("resnet50", "IMAGENET1K_V2");
/// resnet.Model.eval();   // then: resize resnet.Preprocessing.ResizeSize, crop CropSize, normalise Mean/Std
/// </code>
/// </summary>
public sealed class PretrainedModel : IDisposable
{
    internal PretrainedModel(ZooModel model, WeightsEntry entry, LoadReport report, IReadOnlyList<string>? categories,
                             Preprocessing preprocessing, string location, WeightsSidecar? sidecar)
    {
        Sidecar = sidecar;
        Model = model;
        Entry = entry;
        Report = report;
        Categories = categories;
        Preprocessing = preprocessing;
        Location = location;
    }

    /// <summary>
    /// <see cref="WeightsCatalog.Create"/> on <see cref="WeightsCatalog.Default"/> with the cache folders and mirror of
    /// the environment (torch.hub's <c>$TORCH_HOME/hub/checkpoints</c>, <c>$CNNZOO_WEIGHTS_URL</c>).
    /// </summary>
    public static PretrainedModel Create(string model, string weights = WeightsCatalog.DefaultName, int? numClasses = null,
                                         ModelOptions? options = null, Action<string>? log = null,
                                         Action<DownloadProgress>? progress = null)
        => WeightsCatalog.Default.Create(model, weights, numClasses, options, cache: null, log, progress);

    /// <summary>The model, in training mode as built.</summary>
    public ZooModel Model { get; }

    /// <summary>The catalog entry the weights came from; for a file no entry describes, one made from the file (and
    /// its sidecar), whose source is a <see cref="LocalWeightsFile"/>.</summary>
    public WeightsEntry Entry { get; }

    /// <summary>True when the weights are a published entry (by name, or a file with a published name).</summary>
    public bool Published => Entry.Source is not LocalWeightsFile;

    /// <summary>The file the weights were read from.</summary>
    public string Location { get; }

    /// <summary>The description a weights file carried beside it (<see cref="WeightsSidecar"/>); null for published
    /// weights and bare files.</summary>
    public WeightsSidecar? Sidecar { get; }

    /// <summary>How images must be prepared for these weights.</summary>
    public Preprocessing Preprocessing { get; }

    /// <summary>Output class names in index order; null when the classifier is new or the weights had none.</summary>
    public IReadOnlyList<string>? Categories { get; }

    /// <summary>What the load did (including keys skipped knowingly, such as GoogLeNet's auxiliary heads).</summary>
    public LoadReport Report { get; }

    /// <summary>Disposes <see cref="Model"/>.</summary>
    public void Dispose() => Model.Dispose();
}
