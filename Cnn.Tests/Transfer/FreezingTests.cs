using Cnn.Transfer;
using Cnn.Zoo;
using Cnn.Zoo.Models;
using TorchSharp;
using TorchSharp.Modules;
using static Cnn.Tests.Transfer.TransferFixtures;
using static TorchSharp.torch;

namespace Cnn.Tests.Transfer;

[TestClass]
public sealed class FreezingTests
{
    static List<string> Frozen(nn.Module model)
        => model.named_parameters().Where(p => !p.parameter.requires_grad).Select(p => p.name).ToList();

    [TestMethod]
    public void FreezeFirst_ResNet18One_FreezesConv1AndBn1Only()
    {
        using var model = ModelRegistry.Create("resnet18", 10);
        int count = Freezing.FreezeFirst(model, 1);
        Assert.AreEqual(3, count);
        CollectionAssert.AreEquivalent(new[] { "conv1.weight", "bn1.weight", "bn1.bias" }, Frozen(model));
    }

    [TestMethod]
    public void FreezeFirst_ResNet18Shortcut_FollowsItsBlocksLastConvolution()
    {
        // conv1 = 1, layer1 = 2..5, layer2.0.conv1 = 6, layer2.0.conv2 = 7 = layer2.0.downsample.0.
        using var model = ModelRegistry.Create("resnet18", 10);
        Freezing.FreezeFirst(model, 6);
        Assert.Contains("layer2.0.bn1.bias", Frozen(model));
        Assert.DoesNotContain("layer2.0.conv2.weight", Frozen(model));
        Assert.DoesNotContain("layer2.0.downsample.0.weight", Frozen(model));

        Freezing.FreezeFirst(model, 7);
        var frozen = Frozen(model);
        foreach (var name in new[] { "layer2.0.conv2.weight", "layer2.0.bn2.weight", "layer2.0.downsample.0.weight",
                                     "layer2.0.downsample.1.weight", "layer2.0.downsample.1.bias" })
            Assert.Contains(name, frozen);
        Assert.DoesNotContain("layer2.1.conv1.weight", frozen);
    }

    [TestMethod]
    public void KeepingNormStatisticsLeavesRunningStatsUntouchedWhileScaleAndShiftLearn()
    {
        using var model = ModelRegistry.Create("resnet18", 10);
        Freezing.SetTrainingModeKeepingNormStatistics(model, true);
        Assert.IsTrue(model.training);
        var bn = (BatchNorm2d)model.named_modules().Single(m => m.name == "layer1.0.bn1").module;
        Assert.IsFalse(bn.training);
        using var before = bn.running_mean!.clone();
        var optimizer = torch.optim.SGD(model.parameters(), 0.1);
        using (var x = torch.randn(2, 3, 64, 64) * 5 + 3)
        using (var loss = model.call(x).pow(2).mean())
            loss.backward();
        optimizer.step();
        Assert.IsTrue(torch.equal(before, bn.running_mean!).all().item<bool>(), "running statistics must not move");
        Assert.IsTrue(bn.weight!.grad is not null && bn.weight.grad.abs().sum().item<float>() > 0, "the scale still learns");
    }

    [TestMethod]
    [TestCategory("Slow")]   // builds VGG-16 (138 M weights)
    public void FreezeFirst_Vgg16_SixteenLayersThirteenAreTheConvolutions()
    {
        using var model = ModelRegistry.Create("vgg16", 10);
        var e = Assert.ThrowsExactly<InvalidChoiceException>(() => Freezing.FreezeFirst(model, 17));
        StringAssert.Contains(e.Message, "16 weight layers");

        int count = Freezing.FreezeFirst(model, 13);
        Assert.AreEqual(26, count);
        var frozen = Frozen(model);
        CollectionAssert.AreEquivalent(
            model.named_parameters().Where(p => p.name.StartsWith("features.", StringComparison.Ordinal)).Select(p => p.name).ToList(),
            frozen);
        Assert.AreEqual(6, Freezing.TrainableParameters(model).Count());
    }

    [TestMethod]
    public void FreezeFirst_Vgg11Bn_TakesTheNormAfterEachConvolution()
    {
        using var model = ModelRegistry.Create("vgg11_bn", 10);
        Assert.AreEqual(4, Freezing.FreezeFirst(model, 1));
        CollectionAssert.AreEquivalent(new[] { "features.0.weight", "features.0.bias", "features.1.weight", "features.1.bias" },
                                       Frozen(model));
        Assert.AreEqual(0, Freezing.FreezeFirst(model, 0));
        Assert.ThrowsExactly<InvalidChoiceException>(() => Freezing.FreezeFirst(model, -1));
    }

    [TestMethod]
    public void FreezeByPrefix_MatchesWholeComponentsAndRejectsTypos()
    {
        using var model = ModelRegistry.Create("resnet18", 10);
        Assert.AreEqual(12, Freezing.FreezeByPrefix(model, "layer1"));   // 2 blocks x (2 convs + 2 BN x 2)
        Assert.IsTrue(Frozen(model).All(n => n.StartsWith("layer1.", StringComparison.Ordinal)));
        Assert.AreEqual(2, Freezing.FreezeByPrefix(model, "layer2.0.conv1", "fc.weight"));

        var e = Assert.ThrowsExactly<InvalidChoiceException>(() => Freezing.FreezeByPrefix(model, "layer9"));
        StringAssert.Contains(e.Message, "layer9");
        StringAssert.Contains(e.Message, "layer4");
        Assert.ThrowsExactly<InvalidChoiceException>(() => Freezing.FreezeByPrefix(model, "layer1.0.conv"));
        Assert.ThrowsExactly<InvalidChoiceException>(() => Freezing.FreezeByPrefix(model));
        Assert.ThrowsExactly<InvalidChoiceException>(() => Freezing.FreezeByPrefix(model, ""));

        Freezing.Unfreeze(model, "layer1.1");
        Assert.IsTrue(Frozen(model).All(n => !n.StartsWith("layer1.1.", StringComparison.Ordinal)));
        Assert.Contains("layer1.0.conv1.weight", Frozen(model));
        Freezing.Unfreeze(model);
        Assert.IsEmpty(Frozen(model));
    }

    [TestMethod]
    public void FreezeAllButHead_LeavesOnlyTheClassifier()
    {
        using var model = ModelRegistry.Create("resnet18", 10);
        int total = model.parameters().Count();
        Assert.AreEqual(total - 2, Freezing.FreezeAllButHead(model));
        CollectionAssert.AreEquivalent(new[] { "fc.weight", "fc.bias" },
                                       model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).ToList());
    }

    [TestMethod]
    [TestCategory("Slow")]   // GoogLeNet with its auxiliary heads
    public void FreezeAllButHead_GoogLeNetKeepsAuxiliaryHeadsTrainable()
    {
        using var model = ModelRegistry.Create("googlenet", 10, ModelOptions.None.With("aux_logits", true));
        Freezing.FreezeAllButHead(model);
        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).ToList();
        Assert.IsTrue(trainable.All(n => n.StartsWith("fc.", StringComparison.Ordinal) || n.StartsWith("aux1.", StringComparison.Ordinal)
                                         || n.StartsWith("aux2.", StringComparison.Ordinal)), string.Join(", ", trainable));
        Assert.Contains("aux1.fc2.weight", trainable);
        Assert.Contains("aux2.conv.conv.weight", trainable);
        Assert.Contains("fc.bias", trainable);
    }

    [TestMethod]
    public void SetTrainingMode_PutsFullyFrozenNormsInEval()
    {
        using var model = ModelRegistry.Create("resnet18", 10);
        Freezing.FreezeFirst(model, 1);
        Freezing.SetTrainingMode(model, true);
        var norms = model.named_modules().Where(m => m.module is BatchNorm2d).ToDictionary(m => m.name, m => m.module);
        Assert.IsFalse(norms["bn1"].training);
        Assert.IsTrue(norms["layer1.0.bn1"].training);
        Assert.IsTrue(model.training);

        // Counting layers runs a forward pass in eval mode; it must not undo the per-module modes.
        Freezing.FreezeFirst(model, 1);
        ParameterGroups.Discriminative(model, 1e-3, 0.5, 2);
        Assert.IsFalse(norms["bn1"].training);
        Assert.IsTrue(norms["layer1.0.bn1"].training);

        Freezing.SetTrainingMode(model, false);
        Assert.IsTrue(norms.Values.All(m => !m.training));
    }

    [TestMethod]
    [TestCategory("Slow")]   // training steps of a ResNet
    public void Training_FrozenParametersAndStatisticsStayBitIdenticalHeadChanges()
    {
        using var model = ModelRegistry.Create("resnet18", 10);
        Freezing.FreezeAllButHead(model);
        var before = Snapshot(model);
        Train(model, steps: 3);

        var changed = Changed(model, before);
        CollectionAssert.AreEquivalent(new[] { "fc.weight", "fc.bias" }, changed,
            "every frozen parameter, running mean/var and num_batches_tracked is bit-identical");
    }

    [TestMethod]
    [TestCategory("Slow")]   // training steps of a ResNet
    public void Training_FirstLayersFrozen_TheirNormsKeepStatisticsTheRestTrain()
    {
        using var model = ModelRegistry.Create("resnet18", 10);
        Freezing.FreezeFirst(model, 5);   // conv1 and layer1
        var before = Snapshot(model);
        Train(model, steps: 3);

        var changed = Changed(model, before).ToHashSet();
        foreach (var key in before.Keys.Where(k => k.StartsWith("conv1.", StringComparison.Ordinal)
                                                   || k.StartsWith("bn1.", StringComparison.Ordinal)
                                                   || k.StartsWith("layer1.", StringComparison.Ordinal)))
            Assert.DoesNotContain(key, changed);
        foreach (var key in new[] { "layer2.0.conv1.weight", "layer2.0.bn1.running_mean", "layer2.0.bn1.num_batches_tracked", "fc.weight" })
            Assert.Contains(key, changed);
    }

    [TestMethod]
    [TestCategory("Slow")]   // training steps in each freezing regime
    [DataRow("all-but-head")]
    [DataRow("first-8")]
    [DataRow("nothing")]
    public void Regimes_TrainAndOptimizerGetsOnlyTrainableParameters(string regime)
    {
        using var model = ModelRegistry.Create("resnet18", 10);
        int frozen = regime switch
        {
            "all-but-head" => Freezing.FreezeAllButHead(model),
            "first-8" => Freezing.FreezeFirst(model, 8),
            _ => 0,
        };
        var trainable = Freezing.TrainableParameters(model).ToList();
        Assert.AreEqual(model.parameters().Count() - frozen, trainable.Count);
        Assert.IsTrue(trainable.All(p => p.requires_grad));

        var before = Snapshot(model);
        var (first, last, optimizerParameters) = Train(model, steps: 6);
        Assert.AreEqual(trainable.Count, optimizerParameters);
        Assert.IsLessThan(first, last, $"{regime}: loss on a fixed batch went from {first} to {last}");
        var changedParameters = Changed(model, before).Intersect(model.named_parameters().Select(p => p.name)).Count();
        Assert.AreEqual(trainable.Count, changedParameters, "exactly the trainable parameters moved");
    }

    /// <summary>Adam on one fixed random batch; returns the first and last loss and the optimizer's parameter count.</summary>
    static (float First, float Last, int OptimizerParameters) Train(ZooModel model, int steps)
    {
        manual_seed(7);
        using var x = randn(4, 3, 32, 32);
        using var y = randint(0, 10, [4], dtype: int64);
        using var optimizer = optim.Adam(Freezing.TrainableParameters(model), lr: 1e-3);
        Freezing.SetTrainingMode(model, true);
        float first = 0, last = 0;
        for (int i = 0; i < steps; i++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var loss = nn.functional.cross_entropy(model.call(x), y);
            loss.backward();
            optimizer.step();
            float value = loss.item<float>();
            if (i == 0) first = value;
            last = value;
        }
        Freezing.SetTrainingMode(model, false);
        return (first, last, optimizer.parameters().Count());
    }
}
