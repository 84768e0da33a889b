using Cnn.Zoo;
using Cnn.Zoo.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Tests.Zoo;

/// <summary>Every registered model, tested the moment it is registered.</summary>
[TestClass]
public sealed class RegistryTests
{
    [TestMethod]
    [TestCategory("Slow")]   // a forward pass of one model per family
    [DynamicData(nameof(ZooModels.PerFamily), typeof(ZooModels))]
    public void NonDefaultClassCountGivesTheRightShapeWithoutNaN(string name)
    {
        using var model = ModelRegistry.Create(name, 7);
        model.eval();
        using var _ = no_grad();
        using var y = model.call(torch.randn(ZooModels.SmallInput(model)));
        CollectionAssert.AreEqual(new long[] { 2, 7 }, y.shape);
        Assert.IsTrue(y.isfinite().all().item<bool>(), "output has NaN or infinity");
        Assert.AreEqual(7, model.NumClasses);
    }

    [TestMethod]
    [TestCategory("Slow")]   // a forward and backward pass of one model per family
    [DynamicData(nameof(ZooModels.PerFamily), typeof(ZooModels))]
    public void OneBackwardPassGivesEveryTrainableParameterAGradient(string name)
    {
        var options = ZooModels.WithEveryPart(name);
        using var model = ModelRegistry.Create(name, 5, options);
        model.train();
        using var scope = NewDisposeScope();
        var x = torch.randn(ZooModels.SmallInput(model));
        Tensor loss;
        if (model is IAuxiliaryClassifiers aux && aux.HasAuxiliary)
        {
            var (logits, extra) = aux.ForwardWithAuxiliary(x);
            Assert.AreEqual(2, extra.Length, "GoogLeNet trains with two auxiliary classifiers");
            loss = extra.Aggregate(logits.pow(2).mean(), (l, a) => l + a.pow(2).mean());
        }
        else loss = model.call(x).pow(2).mean();
        loss.backward();
        var missing = model.named_parameters()
            .Where(p => p.parameter.requires_grad && (p.parameter.grad is null || p.parameter.grad.abs().sum().item<float>() == 0))
            .Select(p => p.name).ToList();
        Assert.AreEqual(0, missing.Count, "no gradient reached: " + string.Join(", ", missing.Take(10)));
    }

    [TestMethod]
    [TestCategory("Slow")]   // a forward pass of one model per family
    [DynamicData(nameof(ZooModels.PerFamily), typeof(ZooModels))]
    public void FeaturesAndHeadComposeToForwardAndResetClassifierKeepsKeyOrder(string name)
    {
        using var model = ModelRegistry.Create(name, 10);
        model.eval();
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var x = torch.randn(ZooModels.SmallInput(model, 1));
        var features = model.ForwardFeatures(x);
        Assert.AreEqual(model.NumFeatures, features.shape[1], "NumFeatures is the channel count of ForwardFeatures");
        Assert.IsTrue(torch.allclose(model.ForwardHead(features), model.call(x)));

        var keys = model.state_dict().Keys.ToList();
        Assert.IsTrue(keys.Contains(model.ClassifierName + ".weight"), $"{model.ClassifierName}.weight is not a key");
        Assert.IsTrue(keys.Contains(model.FirstConvName + ".weight"), $"{model.FirstConvName}.weight is not a key");
        model.ResetClassifier(3);
        Assert.AreEqual(3, model.NumClasses);
        CollectionAssert.AreEqual(keys, model.state_dict().Keys.ToList(), "replacing the head must keep the key order");
        CollectionAssert.AreEqual(new long[] { 1, 3 }, model.call(x).shape);
        Assert.AreEqual(3, model.state_dict()[model.ClassifierName + ".weight"].shape[0]);
    }

    [TestMethod]
    [DynamicData(nameof(ZooModels.All), typeof(ZooModels))]
    public void InputIsValidatedWithAMessageNamingTheExpectation(string name)
    {
        using var model = ZooModels.OnMeta(name, 10);   // the input is checked before any layer runs
        int wrongChannels = model.Input.Channels == 1 ? 3 : 1;
        var e = Assert.ThrowsExactly<ArgumentException>(() => model.call(torch.zeros(1, wrongChannels, model.Input.Height, model.Input.Width)));
        StringAssert.Contains(e.Message, $"{model.Input.Channels} input channel");
        var small = Assert.ThrowsExactly<ArgumentException>(() => model.call(torch.zeros(1, model.Input.Channels, 7, 7)));
        StringAssert.Contains(small.Message, "[1, " + model.Input.Channels + ", 7, 7]");
    }

    [TestMethod]
    public void TheFastSuitesModelsCoverEveryFamilyAndMetaModelsAreCpuModelsWithoutStorage()
    {
        var outside = ModelRegistry.Names.Where(n => !ZooModels.Families.Any(f => n.StartsWith(f, StringComparison.Ordinal))).ToList();
        Assert.AreEqual(0, outside.Count, $"models of no listed family (add the family and a model of it to ZooModels): {string.Join(", ", outside)}");
        // Wide ResNet is resnet50's bottleneck with wider blocks: resnet50 stands for it.
        foreach (string family in ZooModels.Families)
            Assert.IsTrue(ZooModels.PerFamilyNames.Any(n => n.StartsWith(family, StringComparison.Ordinal)) || family is "wide_resnet",
                          $"no model of the {family} family runs in the fast suite");

        foreach (string name in new[] { "resnet18", "googlenet", "mobilenet_v2" })
        {
            using var cpu = ModelRegistry.Create(name, 10, ZooModels.WithEveryPart(name));
            using var meta = ZooModels.OnMeta(name, 10, ZooModels.WithEveryPart(name));
            var expected = cpu.state_dict().Select(kv => $"{kv.Key} {kv.Value.dtype} [{string.Join(", ", kv.Value.shape)}]").ToList();
            CollectionAssert.AreEqual(expected, meta.state_dict().Select(kv => $"{kv.Key} {kv.Value.dtype} [{string.Join(", ", kv.Value.shape)}]").ToList(), name);
            Assert.IsTrue(meta.parameters().All(p => p.device_type == DeviceType.META), $"{name}: every parameter on the meta device");
        }
        using var after = ModelRegistry.Create("lenet5", 10);
        Assert.AreEqual(DeviceType.CPU, after.parameters().First().device_type, "the default device is restored");
    }

    [TestMethod]
    public void DropoutActsOnlyInTrainingAndBatchNormUsesRunningStatsInEval()
    {
        using var model = ModelRegistry.Create("vgg11_bn", 4);
        using var x = torch.randn(2, 3, 32, 32);
        model.eval();
        using (no_grad())
        {
            Assert.IsTrue(torch.equal(model.call(x), model.call(x)).all().item<bool>(), "eval mode must be deterministic");
            model.train();
            Assert.IsFalse(torch.equal(model.call(x), model.call(x)).all().item<bool>(), "dropout must act in training");
        }
        var mean = model.state_dict()["features.1.running_mean"].clone();
        model.eval();
        using (no_grad()) model.call(x);
        Assert.IsTrue(torch.equal(mean, model.state_dict()["features.1.running_mean"]).all().item<bool>(), "eval must not update BN statistics");
        model.train();
        using (no_grad()) model.call(x);
        Assert.IsFalse(torch.equal(mean, model.state_dict()["features.1.running_mean"]).all().item<bool>(), "training must update BN statistics");
    }

    [TestMethod]
    public void UnknownNamesAndOptionsAreRejectedListingWhatExists()
    {
        var e = Assert.ThrowsExactly<InvalidChoiceException>(() => ModelRegistry.Create("resnet51"));
        StringAssert.Contains(e.Message, "resnet50");
        StringAssert.Contains(e.Message, "mobilenet_v2");
        var o = Assert.ThrowsExactly<InvalidChoiceException>(() => ModelRegistry.Create("vgg16", 10, ModelOptions.Parse(["width=0.5"])));
        StringAssert.Contains(o.Message, "width");
        StringAssert.Contains(o.Message, "dropout");
        var v = Assert.ThrowsExactly<InvalidChoiceException>(() => ModelRegistry.Create("lenet5", 10, ModelOptions.Parse(["activation=swish"])));
        StringAssert.Contains(v.Message, "Tanh");
    }

    [TestMethod]
    public void OptionsChangeTheModel()
    {
        using var half = ModelRegistry.Create("mobilenet_v2", 10, ModelOptions.Parse(["width=0.5"]));
        Assert.AreEqual(1280, half.NumFeatures, "torchvision keeps 1280 last channels below width 1.0");
        Assert.AreEqual(16, half.state_dict()["features.0.0.weight"].shape[0], "32 x 0.5 = 16 stem filters");
        using var v1 = ModelRegistry.Create("mobilenet_v1", 10, ModelOptions.Parse(["width=0.25"]));
        Assert.AreEqual(256, v1.NumFeatures);
        using var custom = ModelRegistry.Create("resnet18", 10, ModelOptions.Parse(["layers=2,2,2,3"]));
        Assert.IsTrue(custom.state_dict().ContainsKey("layer4.2.conv1.weight"));
        using var cifar = ModelRegistry.Create("resnet18", 10, ModelOptions.Parse(["cifar_stem=true"]));
        CollectionAssert.AreEqual(new long[] { 64, 3, 3, 3 }, cifar.state_dict()["conv1.weight"].shape);
        using var paper = (LeNet5)ModelRegistry.Create("lenet5");
        Assert.AreEqual(10, paper.NumClasses, "LeNet-5's entry defaults to MNIST's 10 classes");
        Assert.AreEqual(Cnn.Zoo.Layers.Activation.Tanh, paper.Activation, "the library builds the paper's LeNet-5");
        CollectionAssert.AreEqual(new[] { "activation=relu", "pooling=max" }, ModelRegistry.Get("lenet5").TrainingOptions!.ToArray(),
                                  "the entry names how the command line's recipe differs");
        using var relu = (LeNet5)ModelRegistry.Create("lenet5", 10, ModelOptions.Parse(["activation=relu", "pooling=max"]));
        Assert.AreEqual(Cnn.Zoo.Layers.Activation.ReLU, relu.Activation);
        Assert.AreEqual(Pooling.Max, relu.Pooling);
    }
}
