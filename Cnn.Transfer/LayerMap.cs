using Cnn.Zoo.Analysis;
using Cnn.Zoo.Models;
using TorchSharp;
using TorchSharp.Modules;

namespace Cnn.Transfer;

/// <summary>One weight layer (numbered as <see cref="ModelSummary.WeightLayerCount"/> defines), with the batch norm that
/// normalises its output.</summary>
/// <param name="Number">1-based number in forward order (ModelSummary's numbering; shortcuts share their block's).</param>
/// <param name="Module">The convolution's or linear layer's state-dict prefix.</param>
/// <param name="Norm">The batch norm directly after it (<c>bn1</c> after <c>conv1</c>, <c>downsample.1</c> after
/// <c>downsample.0</c>), or null.</param>
internal sealed record WeightLayerModules(int Number, string Module, string? Norm)
{
    public IEnumerable<string> Prefixes => Norm is null ? [Module] : [Module, Norm];
}

/// <summary>
/// A zoo model's weight layers in forward order and its heads, taken from one <see cref="ModelSummary"/> forward
/// pass, so freezing and learning-rate groups count layers exactly as the summary prints them.
/// </summary>
internal sealed class LayerMap
{
    LayerMap(IReadOnlyList<WeightLayerModules> layers, IReadOnlyList<string> heads)
    {
        Layers = layers;
        Heads = heads;
    }

    /// <summary>Weight layers in forward order (a projection shortcut is its own entry with its block's number).</summary>
    public IReadOnlyList<WeightLayerModules> Layers { get; }

    /// <summary>Number of weight layers (VGG-16: 16, ResNet-50: 50).</summary>
    public int Count => Layers.Count == 0 ? 0 : Layers.Max(l => l.Number);

    /// <summary>State-dict prefixes of the heads: the classifier, and auxiliary classifiers where the model has them.</summary>
    public IReadOnlyList<string> Heads { get; }

    public static LayerMap Of(ZooModel model)
    {
        var summary = Summarise(model);
        var modules = model.named_modules().ToDictionary(m => m.name, m => m.module);
        var layers = new List<WeightLayerModules>();
        var seen = new HashSet<string>();
        int? pending = null;   // index in layers of a weight layer still waiting for its batch norm
        foreach (var row in summary.Rows)
        {
            if (row.OutputShape is null || !seen.Add(row.Name)) continue;
            var module = modules[row.Name];
            if (row.WeightLayer is int number)
            {
                layers.Add(new WeightLayerModules(number, row.Name, null));
                pending = layers.Count - 1;
            }
            else if (module is BatchNorm && pending is int i)
            {
                layers[i] = layers[i] with { Norm = row.Name };
                pending = null;
            }
            else if (module.parameters().Any())
            {
                pending = null;   // another layer with weights came between: the norm is not "directly after"
            }
        }
        return new LayerMap(layers, HeadsOf(model, summary));
    }

    /// <summary>The classifier, plus the auxiliary heads: modules the eval-mode forward pass never reached.</summary>
    public static IReadOnlyList<string> HeadsOf(ZooModel model, ModelSummary? summary = null)
    {
        var heads = new List<string> { model.ClassifierName };
        if (model is IAuxiliaryClassifiers { HasAuxiliary: true })
        {
            summary ??= Summarise(model);
            heads.AddRange(summary.Rows.Where(r => r.OutputShape is null && r.Parameters > 0)
                                       .Select(r => r.Name.Split('.')[0])
                                       .Distinct()
                                       .Where(h => h != model.ClassifierName));
        }
        return heads;
    }

    static ModelSummary Summarise(ZooModel model)
    {
        var spec = model.Input;
        // The smallest input the model takes is enough to see every layer once, and much cheaper than 224 x 224.
        long[] shape = spec.FixedSize ? spec.DefaultShape : [spec.Channels, spec.MinHeight, spec.MinWidth];
        var device = model.parameters().FirstOrDefault()?.device;
        // The summary runs in eval mode and restores every module's own training flag afterwards, so a frozen batch
        // norm that SetTrainingMode put in eval stays there.
        return ModelSummary.Of(model, shape, device);
    }
}
