using Cnn.Tests.Support;
using Cnn.Transfer;
using Cnn.Zoo;
using Cnn.Zoo.Inference;
using Cnn.Zoo.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Tests.Zoo;

/// <summary><see cref="ZooModel.Copy"/> is PyTorch's <c>copy.deepcopy(model)</c>: the same network, apart.</summary>
[TestClass]
public sealed class ZooModelCopyTests
{
    [TestMethod]
    [TestCategory("Slow")]   // builds two of every family, VGG's 130 M weights included
    [DynamicData(nameof(ZooModels.PerFamily), typeof(ZooModels))]
    public void ACopyComputesWhatTheModelComputesAndTrainsApart(string name) => CheckCopy(name);

    [TestMethod]
    public void ACopyOfLeNetComputesWhatItComputesAndTrainsApart() => CheckCopy("lenet5");

    static void CheckCopy(string name)
    {
        using var model = ModelRegistry.Create(name, 7, ZooModels.WithEveryPart(name));
        DeterministicWeights.Apply(model);
        Freezing.FreezeFirst(model, 1);
        model.eval();
        using var copy = model.Copy();

        Assert.AreEqual(model.GetType(), copy.GetType(), name);
        Assert.AreEqual(7, copy.NumClasses, $"{name}: the classes of the model, not of the registry's default");
        Assert.IsFalse(copy.training, $"{name}: the model's mode");
        var original = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.requires_grad);
        CollectionAssert.AreEqual(original, copy.named_parameters().ToDictionary(p => p.name, p => p.parameter.requires_grad),
                                  $"{name}: the same parameters, frozen where the model's are");
        using var x = DeterministicWeights.Input(ZooModels.SmallInput(model));
        using (no_grad())
        {
            using var expected = model.call(x);
            using var actual = copy.call(x);
            Assert.IsTrue(expected.allclose(actual, rtol: 0, atol: 0), $"{name}: the same logits, bit for bit");
        }

        using (no_grad())
        {
            foreach (var parameter in copy.parameters()) parameter.add_(1.0f);
        }
        foreach (var (key, tensor) in copy.state_dict())
        {
            if (!tensor.is_floating_point()) continue;
            var before = model.state_dict()[key];
            bool changed = copy.named_parameters().Any(p => p.name == key);
            Assert.AreEqual(changed, !before.allclose(tensor, rtol: 0, atol: 0), $"{name}: {key} is the copy's own");
        }
    }

    [TestMethod]
    public void CopyingDrawsNothingFromTheRandomGenerator()
    {
        using var model = ModelRegistry.Create("resnet18", 10);
        torch.manual_seed(11);
        using var expected = torch.rand(4);
        torch.manual_seed(11);
        using (model.Copy()) { }
        using var actual = torch.rand(4);
        Assert.IsTrue(expected.allclose(actual, rtol: 0, atol: 0), "the draw after a copy is the draw without it");
    }

    [TestMethod]
    public void ACopyHasTheClassifierTheModelWasGiven()
    {
        using var model = ModelRegistry.Create("resnet18", 1000);
        model.ResetClassifier(3);
        using var copy = model.Copy();
        Assert.AreEqual(3, copy.NumClasses);
        CollectionAssert.AreEqual(new long[] { 3, 512 }, copy.state_dict()["fc.weight"].shape);
    }

    [TestMethod]
    public void AModelOptimisedForInferenceIsNotCopied()
    {
        var model = ModelRegistry.Create("lenet5", 10);
        using var optimized = InferenceModel.Optimize(model);
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => model.Copy());
        StringAssert.Contains(error.Message, "copy it before optimising it");
    }
}
