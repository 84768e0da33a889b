using Cnn.Zoo.Analysis;

namespace Cnn.Zoo;

/// <summary>Size and cost of a registered model in its default configuration, as its summary measures them.</summary>
/// <param name="Parameters">Parameters at the entry's default class count.</param>
/// <param name="Macs">Multiply-accumulates of convolutions and linear layers for one image of the default input size.</param>
/// <param name="Input">The default input, e.g. <c>3x224x224</c>.</param>
/// <param name="WeightLayers">Convolutions and linear layers in forward order, as <see cref="ModelSummary"/> numbers them.</param>
public sealed record ModelFacts(long Parameters, long Macs, string Input, int WeightLayers)
{
    /// <summary>
    /// The facts of the built-in models, so listing the zoo does not build 21 models and run a forward pass through
    /// each (half a minute on two cores). A test measures every entry with <see cref="ModelSummary"/> and compares.
    /// </summary>
    static readonly Dictionary<string, ModelFacts> known = new()
    {
    };

    /// <summary>The facts of <paramref name="entry"/>: from the table for built-in models, measured for others.</summary>
    public static ModelFacts Of(ModelEntry entry) => known.TryGetValue(entry.Name, out var facts) ? facts : Measure(entry);

    /// <summary>Builds the model and measures it with a summary pass.</summary>
    public static ModelFacts Measure(ModelEntry entry)
    {
        using var model = entry.Create(entry.DefaultClasses, ModelOptions.None);
        var summary = ModelSummary.Of(model, model.Input.DefaultShape);
        return new ModelFacts(summary.TotalParameters, summary.TotalMacs, $"{model.Input.Channels}x{model.Input.Height}x{model.Input.Width}",
                              summary.WeightLayerCount);
    }

    /// <summary>Names of the models whose facts come from the table.</summary>
    public static IReadOnlyCollection<string> Tabulated => known.Keys;
}
