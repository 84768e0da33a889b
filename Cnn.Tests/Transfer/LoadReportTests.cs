using Cnn.Tests.Support;
using Cnn.Transfer;
using Cnn.Zoo;

namespace Cnn.Tests.Transfer;

/// <summary>A refused load explains itself on one screen and names the architecture the file holds.</summary>
[TestClass]
public sealed class LoadReportTests
{
    static string SavedWeights(TempFolder folder, string model, int classes = 1000)
    {
        string path = folder.File($"{model}.pt");
        using var source = ModelRegistry.Create(model, classes);
        Weights.Save(source, path);
        return path;
    }

    [TestMethod]
    public void AnotherArchitecturesWeightsAreNamedInAShortMessage()
    {
        using var folder = new TempFolder("report");
        string path = SavedWeights(folder, "mobilenet_v2");
        using var model = ModelRegistry.Create("resnet18");

        var e = Assert.ThrowsExactly<WeightLoadException>(() => Weights.Load(model, path));

        Assert.AreEqual("mobilenet_v2", e.Report.Match?.Model);
        StringAssert.Contains(e.Message, "this file holds mobilenet_v2 weights (314 of 314 keys match); --model mobilenet_v2?");
        StringAssert.Contains(e.Message, path);
        StringAssert.Contains(e.Message, "missing from the file (122): conv1.weight, bn1.weight, bn1.bias, bn1.running_mean, bn1.running_var, ... and 117 more");
        StringAssert.Contains(e.Message, "unexpected in the file (314): ");
        StringAssert.Contains(e.Message, "... and 309 more");
        var lines = e.Message.Split(Environment.NewLine);
        Assert.IsTrue(lines.Length <= 8 && lines.All(l => l.Length < 400), e.Message);
        Assert.HasCount(122, e.Report.Missing, "the report object keeps every key");
    }

    [TestMethod]
    public void TheSmallerOfTwoNestedArchitecturesIsTheMatch()
    {
        // ResNet-34 has every key of ResNet-18 with the same shapes, and more: a ResNet-18 file names resnet18.
        using var folder = new TempFolder("report");
        string path = SavedWeights(folder, "resnet18");
        using var model = ModelRegistry.Create("resnet34");

        var e = Assert.ThrowsExactly<WeightLoadException>(() => Weights.Load(model, path));

        Assert.AreEqual("resnet18", e.Report.Match?.Model);
        StringAssert.Contains(e.Message, "(122 of 122 keys match)");
    }

    [TestMethod]
    public void ADifferentHeadIsNotCalledAnotherArchitecture()
    {
        using var folder = new TempFolder("report");
        string path = SavedWeights(folder, "resnet18", classes: 10);
        using var model = ModelRegistry.Create("resnet18");

        var e = Assert.ThrowsExactly<WeightLoadException>(() => Weights.Load(model, path));

        Assert.IsNull(e.Report.Match);
        StringAssert.Contains(e.Message, "fc.weight [1000, 512] vs [10, 512]");
        Assert.IsFalse(e.Message.Contains("this file holds", StringComparison.Ordinal));
    }
}
