using Cnn.Transfer;
using Cnn.Zoo.Models;
using TorchSharp;
using static Cnn.Tests.Transfer.TransferFixtures;
using static TorchSharp.torch;

namespace Cnn.Tests.Transfer;

/// <summary>Loading into models: outputs match PyTorch's, strict means all-or-nothing, requires_grad survives.</summary>
[TestClass]
public sealed class WeightsLoadTests
{
    [TestMethod]
    [DataRow("lenet5.pt")]
    [DataRow("lenet5_checkpoint.pt")]
    [DataRow("lenet5.safetensors")]
    public void LoadedWeights_GivePyTorchsOutputs(string file)
    {
        var (input, logits, keys) = Expected();
        using var model = new LeNet5();
        var report = Weights.Load(model, PathOf(file));
        Assert.IsTrue(report.IsExact, report.ToString());
        CollectionAssert.AreEqual(keys, report.Loaded.ToArray());

        model.eval();
        using var x = tensor(input, InputShape);
        using var expected = tensor(logits, [2, 10]);
        using var actual = Logits(model, x);
        Assert.IsLessThan(1e-5f, MaxAbsDiff(actual, expected), $"logits differ from PyTorch's for {file}");
    }

    [TestMethod]
    public void FixtureInput_IsTheDeterministicInput()
    {
        using var x = DeterministicInput();
        using var fromFile = tensor(Expected().Input, InputShape);
        Assert.IsTrue(BitEqual(x, fromFile));
    }

    [TestMethod]
    public void RequiresGrad_IsKeptFromTheModelNotTheFile()
    {
        // lenet5.pt stores the classifier's tensors with requires_grad=False and the features' with True; a loader that
        // took the flag from the file (as PyBridge's load_py does) would freeze the classifier.
        using var model = new LeNet5();
        model.named_parameters().Single(p => p.name == "features.3.weight").parameter.requires_grad = false;
        Weights.Load(model, PathOf("lenet5.pt"));
        foreach (var (name, p) in model.named_parameters())
            Assert.AreEqual(name != "features.3.weight", p.requires_grad, name);
    }

    [TestMethod]
    public void StrictLoad_SmallerTensorUnderTheRightName_IsAShapeMismatchAndChangesNothing()
    {
        // tiny_linear_smaller.pt: weight [1, 3] for a [2, 3] Linear. Matching names is not enough: copying it would
        // overwrite one row and leave the other.
        using var ours = nn.Linear(3, 2);
        var before = Snapshot(ours);
        var e = Assert.ThrowsExactly<WeightLoadException>(() => Weights.Load(ours, PathOf("tiny_linear_smaller.pt")));
        var mismatch = e.Report.ShapeMismatches.Single();
        Assert.AreEqual("weight", mismatch.Key);
        CollectionAssert.AreEqual(new long[] { 2, 3 }, mismatch.Expected);
        CollectionAssert.AreEqual(new long[] { 1, 3 }, mismatch.Found);
        Assert.IsEmpty(Changed(ours, before));
    }

    [TestMethod]
    public void SkippedKey_IsIgnoredEvenWhenItsTensorHasAnotherShape()
    {
        // tiny_linear_larger.pt: weight [5, 5] for a [2, 3] Linear. Skipping "weight" loads the bias and leaves the
        // weight untouched, whatever the file holds under the skipped name.
        using var ours = nn.Linear(3, 2);
        using var weight = ours.weight!.detach().clone();
        var report = Weights.Load(ours, PathOf("tiny_linear_larger.pt"), strict: true, skipPrefixes: ["weight"]);
        Assert.IsTrue(report.IsExact, report.ToString());
        CollectionAssert.AreEqual(new[] { "bias" }, report.Loaded.ToArray());
        CollectionAssert.AreEqual(new[] { "weight" }, report.Skipped.ToArray());
        Assert.IsTrue(BitEqual(ours.weight!, weight));
        Assert.IsTrue(ours.bias!.eq(5).all().item<bool>());
    }

    [TestMethod]
    public void StrictWrongArchitecture_ThrowsAndLeavesModelBitIdentical()
    {
        using var model = new LeNet5();
        var before = Snapshot(model);
        var e = Assert.ThrowsExactly<WeightLoadException>(() => Weights.Load(model, PathOf("tiny_wrong_arch.pt")));
        Assert.HasCount(10, e.Report.Missing);
        CollectionAssert.AreEquivalent(new[] { "conv1.weight", "bn1.weight", "fc.weight", "fc.bias" }, e.Report.Unexpected.ToList());
        Assert.IsEmpty(e.Report.Loaded);
        StringAssert.Contains(e.Message, "tiny_wrong_arch.pt");
        StringAssert.Contains(e.Message, "fc.weight");
        Assert.IsEmpty(Changed(model, before));
    }

    [TestMethod]
    public void StrictHeadMismatch_ChecksEverythingBeforeCopyingAnything()
    {
        // Eight of ten keys would fit; a load that copied as it went would have changed the body before failing.
        using var model = new LeNet5(numClasses: 1000);
        var before = Snapshot(model);
        var e = Assert.ThrowsExactly<WeightLoadException>(() => Weights.Load(model, PathOf("lenet5.pt")));
        Assert.HasCount(2, e.Report.ShapeMismatches);
        Assert.IsEmpty(Changed(model, before));
    }

    [TestMethod]
    public void NonStrictDifferentHead_LoadsBodyLeavesHeadAndReportsIt()
    {
        using var model = new LeNet5(numClasses: 1000);
        var before = Snapshot(model);
        var file = DeterministicLeNetState(FixtureSalt);

        var report = Weights.Load(model, PathOf("lenet5.pt"), strict: false);

        Assert.IsFalse(report.IsExact);
        Assert.HasCount(8, report.Loaded);
        Assert.IsEmpty(report.Missing);
        Assert.IsEmpty(report.Unexpected);
        var mismatches = report.ShapeMismatches.ToDictionary(m => m.Key);
        CollectionAssert.AreEqual(new long[] { 1000, 84 }, mismatches["classifier.4.weight"].Expected);
        CollectionAssert.AreEqual(new long[] { 10, 84 }, mismatches["classifier.4.weight"].Found);
        CollectionAssert.AreEqual(new long[] { 1000 }, mismatches["classifier.4.bias"].Expected);
        CollectionAssert.AreEqual(new long[] { 10 }, mismatches["classifier.4.bias"].Found);
        StringAssert.Contains(report.ToString(), "classifier.4.weight [1000, 84] vs [10, 84]");

        var state = model.state_dict();
        foreach (var key in report.Loaded) Assert.IsTrue(BitEqual(state[key], file[key]), key);
        CollectionAssert.AreEquivalent(report.Loaded.ToList(), Changed(model, before), "only the loaded tensors changed");
        Assert.IsTrue(BitEqual(state["classifier.4.weight"], before["classifier.4.weight"]));
        Assert.IsTrue(BitEqual(state["classifier.4.bias"], before["classifier.4.bias"]));
    }

    [TestMethod]
    public void SkipClassifier_StrictLoadSucceedsAndHeadKeepsItsInitialisation()
    {
        using var model = new LeNet5(numClasses: 1000);
        using var head = model.state_dict()["classifier.4.weight"].detach().clone();
        var report = Weights.Load(model, PathOf("lenet5.safetensors"), skipPrefixes: [model.ClassifierName]);
        Assert.IsTrue(report.IsExact, report.ToString());
        CollectionAssert.AreEquivalent(new[] { "classifier.4.weight", "classifier.4.bias" }, report.Skipped.ToList());
        Assert.IsTrue(BitEqual(model.state_dict()["classifier.4.weight"], head));
    }

    [TestMethod]
    public void ShapeMismatch_ListedWithBothShapes()
    {
        using var model = new LeNet5(inChannels: 3);
        var report = Weights.Load(model, PathOf("lenet5.pt"), strict: false);
        var mismatch = report.ShapeMismatches.Single();
        Assert.AreEqual("features.0.weight", mismatch.Key);
        CollectionAssert.AreEqual(new long[] { 6, 3, 5, 5 }, mismatch.Expected);
        CollectionAssert.AreEqual(new long[] { 6, 1, 5, 5 }, mismatch.Found);
        Assert.HasCount(9, report.Loaded);
    }

    [TestMethod]
    public void LoadFromDictionary_CopiesInPlaceKeepingDtypeAndIdentity()
    {
        using var model = new LeNet5();
        var parameters = model.parameters().ToList();
        var state = DeterministicLeNetState(RoundTripSalt).ToDictionary(kv => kv.Key, kv => kv.Value.to(float64));

        var report = Weights.Load(model, state);

        Assert.IsTrue(report.IsExact);
        CollectionAssert.AreEqual(parameters, model.parameters().ToList(), "the parameter objects an optimizer holds are the same");
        foreach (var (key, value) in model.state_dict())
        {
            Assert.AreEqual(ScalarType.Float32, value.dtype, key);
            Assert.IsFalse(state[key].IsInvalid, "the caller's tensors are not disposed");
            Assert.IsTrue(BitEqual(value, state[key].to(float32)), key);
        }
    }

    [TestMethod]
    public void Report_ToStringListsEverySection()
    {
        using var model = new LeNet5(numClasses: 5);
        var state = DeterministicLeNetState(FixtureSalt);
        state.Remove("features.0.bias");
        state["extra.weight"] = zeros(2);
        var report = Weights.Load(model, state, strict: false, skipPrefixes: ["features.3"]);
        string text = report.ToString();
        StringAssert.Contains(text, "5 of 8 tensors loaded");
        StringAssert.Contains(text, "missing from the file (1): features.0.bias");
        StringAssert.Contains(text, "unexpected in the file (1): extra.weight");
        StringAssert.Contains(text, "classifier.4.bias [5] vs [10]");
        StringAssert.Contains(text, "skipped (2): features.3.weight, features.3.bias");
    }
}
