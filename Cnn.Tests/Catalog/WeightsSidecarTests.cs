using Cnn.Tests.Support;
using Cnn.Transfer;
using Cnn.Transfer.Catalog;
using Cnn.Zoo;
using Cnn.Zoo.Layers;
using Cnn.Zoo.Models;
using TorchSharp;

namespace Cnn.Tests.Catalog;

/// <summary>A weights file with its <see cref="WeightsSidecar"/> carries what its checkpoint knew; without one it is
/// loaded as the model the caller names, with the default preprocessing.</summary>
[TestClass]
public sealed class WeightsSidecarTests
{
    static readonly string[] Digits = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];

    static readonly Preprocessing Padded = new(32, 32, [0.1307], [0.3081]) { PadSmallSquares = true };

    /// <summary>A LeNet-5 (ReLU, max pooling) saved as <c>model.pt</c>, with or without its sidecar.</summary>
    static (string Weights, LeNet5 Model) Saved(TempFolder folder, bool sidecar)
    {
        torch.manual_seed(3);
        var model = new LeNet5(activation: Activation.ReLU, pooling: Pooling.Max);
        string weights = folder.File("model.pt");
        Weights.Save(model, weights);
        if (sidecar)
            new WeightsSidecar("lenet5", new Dictionary<string, string> { ["activation"] = "relu", ["pooling"] = "max" }, Digits, Padded).Write(weights);
        return (weights, model);
    }

    [TestMethod]
    public void ASidecarRoundTripsEveryFieldAndSitsBesideTheWeights()
    {
        using var folder = new TempFolder("sidecar");
        var (weights, _) = Saved(folder, sidecar: true);
        Assert.AreEqual(folder.File("model.json"), WeightsSidecar.PathFor(weights));
        Assert.AreEqual(folder.File("model.json"), WeightsSidecar.PathFor(folder.File("model.safetensors")), "both formats share one description");
        var read = WeightsSidecar.Read(weights)!;
        Assert.AreEqual("lenet5", read.Model);
        Assert.AreEqual("max", read.ModelOptions["pooling"]);
        CollectionAssert.AreEqual(Digits, read.Classes.ToArray());
        Assert.AreEqual(Padded, read.Preprocessing);
        StringAssert.Contains(File.ReadAllText(folder.File("model.json")), "\"resize_size\": 32", "snake_case, for the Python side of a handoff");
        Assert.IsNull(WeightsSidecar.Read(folder.File("other.pt")));
    }

    [TestMethod]
    public void AFileWithASidecarLoadsWithoutAModelNameAndKeepsItsClassesAndPreprocessing()
    {
        using var folder = new TempFolder("sidecar-load");
        var (weights, model) = Saved(folder, sidecar: true);
        using var loaded = WeightsCatalog.Default.Load(null, weights, log: _ => { });
        Assert.AreEqual(Padded, loaded.Preprocessing);
        CollectionAssert.AreEqual(Digits, loaded.Categories!.ToArray());
        Assert.IsFalse(loaded.Published);
        foreach (var (key, tensor) in model.state_dict())
            Assert.IsTrue(torch.equal(tensor, loaded.Model.state_dict()[key]).all().item<bool>(), key);
        var wrong = Assert.ThrowsExactly<InvalidChoiceException>(() => WeightsCatalog.Default.Load("resnet18", weights, log: _ => { }));
        StringAssert.Contains(wrong.Message, "holds lenet5 weights");
    }

    [TestMethod]
    public void AFileWithoutASidecarNeedsTheModelAndGetsThePlainPreprocessingOfAGreyModel()
    {
        using var folder = new TempFolder("no-sidecar");
        var (weights, _) = Saved(folder, sidecar: false);
        var unnamed = Assert.ThrowsExactly<InvalidChoiceException>(() => WeightsCatalog.Default.Load(null, weights, log: _ => { }));
        StringAssert.Contains(unnamed.Message, "name the model with --model");
        using var loaded = WeightsCatalog.Default.Load("lenet5", weights, options: ModelOptions.Parse(["activation=relu", "pooling=max"]), log: _ => { });
        Assert.AreEqual(new Preprocessing(32, 32, [0.5], [0.5]), loaded.Preprocessing);
        Assert.IsNull(loaded.Categories);
        Assert.AreEqual(10, loaded.Model.NumClasses, "the class count comes from the file's classifier");
    }

    [TestMethod]
    public void ADamagedSidecarIsAnErrorThatNamesItAndTheWayOut()
    {
        using var folder = new TempFolder("sidecar-damaged");
        var (weights, _) = Saved(folder, sidecar: true);
        File.WriteAllText(folder.File("model.json"), "{\"model\": \"lenet5\", \"classes\": [");
        var e = Assert.ThrowsExactly<InvalidDataException>(() => WeightsCatalog.Default.Load("lenet5", weights, log: _ => { }));
        StringAssert.Contains(e.Message, folder.File("model.json"));
        StringAssert.Contains(e.Message, "Delete or repair it");
        File.WriteAllText(folder.File("model.json"), "{\"model\": \"lenet5\"}");
        var missing = Assert.ThrowsExactly<InvalidDataException>(() => WeightsSidecar.Read(weights));
        StringAssert.Contains(missing.Message, "missing");
    }
}
