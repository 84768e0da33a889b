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
        ["lenet5"] = new(61706, 416520, "1x32x32", 5),
        ["alexnet"] = new(61100840, 714188480, "3x224x224", 8),
        ["alexnet_original"] = new(62378344, 1135256096, "3x227x227", 8),
        ["vgg11"] = new(132863336, 7609090048, "3x224x224", 11),
        ["vgg11_bn"] = new(132868840, 7609090048, "3x224x224", 11),
        ["vgg13"] = new(133047848, 11308466176, "3x224x224", 13),
        ["vgg13_bn"] = new(133053736, 11308466176, "3x224x224", 13),
        ["vgg16"] = new(138357544, 15470264320, "3x224x224", 16),
        ["vgg16_bn"] = new(138365992, 15470264320, "3x224x224", 16),
        ["vgg19"] = new(143667240, 19632062464, "3x224x224", 19),
        ["vgg19_bn"] = new(143678248, 19632062464, "3x224x224", 19),
        ["resnet18"] = new(11689512, 1814073344, "3x224x224", 18),
        ["resnet34"] = new(21797672, 3663761408, "3x224x224", 34),
        ["resnet50"] = new(25557032, 4089184256, "3x224x224", 50),
        ["resnet101"] = new(44549160, 7801405440, "3x224x224", 101),
        ["resnet152"] = new(60192808, 11513626624, "3x224x224", 152),
        ["resnext50_32x4d"] = new(25028904, 4230479872, "3x224x224", 50),
        ["wide_resnet50_2"] = new(68883240, 11398021120, "3x224x224", 50),
        ["googlenet"] = new(6624904, 1498376192, "3x224x224", 58),
        ["mobilenet_v1"] = new(4231976, 568740352, "3x224x224", 28),
        ["mobilenet_v2"] = new(3504872, 300774272, "3x224x224", 53),
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

    /// <summary>The table itself, for the test that measures it.</summary>
    public static IReadOnlyDictionary<string, ModelFacts> Tabulated => known;
}
