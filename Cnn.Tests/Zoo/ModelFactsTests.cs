using System.Text.Json;
using Cnn.Zoo;

namespace Cnn.Tests.Zoo;

/// <summary>
/// The facts table that lets <c>cnnzoo models</c> print at once, held to sources outside it: parameter counts and
/// inputs to the models as built (on the meta device, so the VGGs cost milliseconds), multiply-accumulates to
/// torchvision's own count (macs.json) or, for the three models torchvision lacks, to a summary pass, and weight
/// layers to the counts the architectures are named after, written out below.
/// </summary>
[TestClass]
public sealed class ModelFactsTests
{
    /// <summary>Weight layers (convolutions and linear layers, a shortcut projection not counted), from the papers.</summary>
    static readonly Dictionary<string, int> WeightLayers = new()
    {
        ["lenet5"] = 5,                           // C1, C3, C5, F6, output
        ["alexnet"] = 8, ["alexnet_original"] = 8, // five convolutions, three fully connected layers
        ["vgg11"] = 11, ["vgg11_bn"] = 11, ["vgg13"] = 13, ["vgg13_bn"] = 13,
        ["vgg16"] = 16, ["vgg16_bn"] = 16, ["vgg19"] = 19, ["vgg19_bn"] = 19,
        ["resnet18"] = 18, ["resnet34"] = 34, ["resnet50"] = 50, ["resnet101"] = 101, ["resnet152"] = 152,
        ["resnext50_32x4d"] = 50, ["wide_resnet50_2"] = 50,
        ["googlenet"] = 3 + 9 * 6 + 1,            // stem convolutions, nine inception blocks of six, the classifier
        ["mobilenet_v1"] = 1 + 13 * 2 + 1,        // Table 1: the stem, 13 depthwise-separable pairs, the classifier
        ["mobilenet_v2"] = 1 + 2 + 16 * 3 + 1 + 1, // stem, the t=1 block's two, sixteen blocks of three, the 1x1 to 1280, classifier
    };

    [TestMethod]
    public void EveryTabulatedFactIsTheModelsAsBuiltAndPublished()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("torchvision", "macs.json")));
        var torchVisionMacs = doc.RootElement.GetProperty("models");
        Assert.AreEqual(ModelRegistry.All.Count, ModelFacts.Tabulated.Count, "a registered model missing from the table, or a tabulated one not registered");
        foreach (var entry in ModelRegistry.All)
        {
            Assert.IsTrue(ModelFacts.Tabulated.TryGetValue(entry.Name, out var facts), $"{entry.Name} is not tabulated");
            using var model = ZooModels.OnMeta(entry.Name, entry.DefaultClasses);
            Assert.AreEqual(model.parameters().Sum(p => p.numel()), facts.Parameters, $"{entry.Name} parameters");
            Assert.AreEqual($"{model.Input.Channels}x{model.Input.Height}x{model.Input.Width}", facts.Input, $"{entry.Name} input");
            Assert.AreEqual(WeightLayers[entry.Name], facts.WeightLayers, $"{entry.Name} weight layers");
            if (torchVisionMacs.TryGetProperty(entry.Name, out var published))
                Assert.AreEqual(published.GetProperty("total_macs").GetInt64(), facts.Macs, $"{entry.Name} MACs (torchvision's count)");
        }
    }

    [TestMethod]
    public void TheModelsTorchVisionLacksAreTabulatedAsASummaryMeasuresThem()
    {
        foreach (string name in new[] { "lenet5", "alexnet_original", "mobilenet_v1" })
            Assert.AreEqual(ModelFacts.Measure(ModelRegistry.Get(name)), ModelFacts.Tabulated[name], name);
    }
}
