using Cnn.Transfer;
using Cnn.Zoo;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Tests.Transfer;

[TestClass]
public sealed class ParameterGroupsTests
{
    static HashSet<string> Names(nn.Module model, IEnumerable<TorchSharp.Modules.Parameter> group)
    {
        var set = group.ToHashSet(ReferenceEqualityComparer.Instance);
        return model.named_parameters().Where(p => set.Contains(p.parameter)).Select(p => p.name).ToHashSet();
    }

    [TestMethod]
    public void Discriminative_RatesGrowTowardsTheHeadAndGroupsAreContiguous()
    {
        using var model = ModelRegistry.Create("resnet18", 10);
        var groups = ParameterGroups.Discriminative(model, headLearningRate: 1e-3, decayPerGroup: 0.1, groups: 3);

        Assert.HasCount(3, groups);
        var rates = groups.Select(g => g.LearningRate).ToArray();
        Assert.AreEqual(1e-5, rates[0], 1e-12);
        Assert.AreEqual(1e-4, rates[1], 1e-12);
        Assert.AreEqual(1e-3, rates[2], 1e-12);

        var names = groups.Select(g => Names(model, g.Parameters)).ToList();
        CollectionAssert.AreEquivalent(new[] { "fc.weight", "fc.bias" }, names[2].ToList());
        // 17 body layers (conv1 + 16 block convolutions) split 9 + 8: conv1 .. layer2.1.conv2 | layer3 .. layer4.
        Assert.Contains("conv1.weight", names[0]);
        Assert.Contains("bn1.bias", names[0]);
        Assert.Contains("layer2.0.downsample.1.weight", names[0]);
        Assert.Contains("layer2.1.bn2.weight", names[0]);
        Assert.Contains("layer3.0.conv1.weight", names[1]);
        Assert.Contains("layer4.1.bn2.bias", names[1]);

        var all = names.SelectMany(n => n).ToList();
        Assert.HasCount(model.parameters().Count(), all, "every parameter in exactly one group");
        CollectionAssert.AllItemsAreUnique(all);
    }

    [TestMethod]
    public void Discriminative_LeavesFrozenParametersOut()
    {
        using var model = ModelRegistry.Create("resnet18", 10);
        Freezing.FreezeFirst(model, 5);
        var groups = ParameterGroups.Discriminative(model, 1e-2, 0.5, 4);
        var all = groups.SelectMany(g => g.Parameters).ToList();
        Assert.AreEqual(Freezing.TrainableParameters(model).Count(), all.Count);
        Assert.IsTrue(all.All(p => p.requires_grad));
        Assert.DoesNotContain("conv1.weight", Names(model, groups[0].Parameters));
        Assert.Contains("layer2.0.conv1.weight", Names(model, groups[0].Parameters));
        CollectionAssert.AreEqual(new[] { 1.25e-3, 2.5e-3, 5e-3, 1e-2 }, groups.Select(g => g.LearningRate).ToArray());
    }

    [TestMethod]
    public void Discriminative_RejectsImpossibleRequests()
    {
        using var model = ModelRegistry.Create("lenet5", 10);
        // LeNet-5 has 5 weight layers: 4 before the head, so at most 5 groups.
        Assert.HasCount(5, ParameterGroups.Discriminative(model, 1e-3, 0.5, 5));
        var e = Assert.ThrowsExactly<InvalidChoiceException>(() => ParameterGroups.Discriminative(model, 1e-3, 0.5, 6));
        StringAssert.Contains(e.Message, "4 trainable weight layers");
        Assert.ThrowsExactly<InvalidChoiceException>(() => ParameterGroups.Discriminative(model, 1e-3, 0, 2));
        Assert.ThrowsExactly<InvalidChoiceException>(() => ParameterGroups.Discriminative(model, -1, 0.5, 2));
        Assert.ThrowsExactly<InvalidChoiceException>(() => ParameterGroups.Discriminative(model, 1e-3, 0.5, 0));

        var single = ParameterGroups.Discriminative(model, 1e-3, 0.5, 1);
        Assert.HasCount(model.parameters().Count(), single.Single().Parameters);

        Freezing.FreezeByPrefix(model, model.ClassifierName);
        Assert.ThrowsExactly<InvalidChoiceException>(() => ParameterGroups.Discriminative(model, 1e-3, 0.5, 2));
    }

    [TestMethod]
    public void ForAdamAdamWAndSgd_OptimizersUseTheGroupRates()
    {
        using var model = ModelRegistry.Create("lenet5", 10);
        var groups = ParameterGroups.Discriminative(model, 1e-2, 0.5, 3);
        var expected = groups.Select(g => g.LearningRate).ToArray();

        using var adam = optim.Adam(groups.ForAdam(), lr: 0.5);
        CollectionAssert.AreEqual(expected, adam.ParamGroups.Select(g => g.LearningRate).ToArray());
        Assert.AreEqual(model.parameters().Count(), adam.parameters().Count());

        using var adamW = optim.AdamW(groups.ForAdamW(weightDecay: 0.05), lr: 0.5);
        CollectionAssert.AreEqual(expected, adamW.ParamGroups.Select(g => g.LearningRate).ToArray());
        Assert.IsTrue(adamW.ParamGroups.All(g => g is TorchSharp.Modules.AdamW.ParamGroup { Options.weight_decay: 0.05 }), "every group keeps the decay");
        Assert.AreEqual(model.parameters().Count(), adamW.parameters().Count());

        using var sgd = optim.SGD(groups.ForSgd(momentum: 0.9), 0.5);
        CollectionAssert.AreEqual(expected, sgd.ParamGroups.Select(g => g.LearningRate).ToArray());

        // One plain SGD step: the first group moves by its own rate (a quarter of the head's), not the optimizer default.
        using var x = randn(4, 1, 32, 32);
        using var y = randint(0, 10, [4], dtype: int64);
        using var plain = optim.SGD(groups.ForSgd(momentum: 0), 0.5);
        var first = groups[0].Parameters.First();
        using var before = first.detach().clone();
        plain.zero_grad();
        using (var loss = nn.functional.cross_entropy(model.call(x), y)) loss.backward();
        using var step = first.grad!.detach().clone() * -expected[0];
        plain.step();
        using var moved = first.detach() - before;
        Assert.IsTrue(moved.allclose(step, rtol: 1e-4, atol: 1e-8), "the first group stepped with its own rate");
    }
}
