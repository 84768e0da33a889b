using Cnn.Tests.Support;
using Cnn.Training.Data;
using Cnn.Training.Reporting;
using Cnn.Training.Training;
using Cnn.Transfer;
using Cnn.Zoo;
using Cnn.Zoo.Layers;
using Cnn.Zoo.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Tests.Training;

/// <summary>A head trained on cached features is the head trained on the images, only faster.</summary>
[TestClass]
public sealed class FeatureCacheTests
{
    static LeNet5 FrozenLeNet()
    {
        torch.manual_seed(5);
        var model = new LeNet5(activation: Activation.ReLU, pooling: Pooling.Max);
        Freezing.FreezeAllButHead(model);
        return model;
    }

    /// <summary>On a CPU the one pass runs the body exported to ONNX Runtime; what it keeps is the model's
    /// <c>ForwardFeatures</c> of each transformed image, in the (held-out, unshuffled) loader's order, to float rounding.</summary>
    [TestMethod]
    public void OnACpuTheBodyRunsInOnnxRuntimeAndKeepsTheModelsFeatures()
    {
        var (trainSet, _) = Datasets.IdxFolder(Path.Combine(TestPaths.RepoRoot, "data", "mnist"));
        using var model = ModelRegistry.Create("resnet18", 10);
        DeterministicWeights.Apply(model);
        Freezing.FreezeAllButHead(model);
        var images = Datasets.Subset(trainSet, 1, 1);
        var (_, loader, _) = DataSetup.Loaders("mnist", images, images, model.Input, 64, augment: false, batchSize: 4, workers: 1, seed: 1);

        var features = FeatureCache.Features(model, loader, CPU, "images")!;

        Assert.AreEqual("ONNX Runtime", features.Engine);
        Assert.AreEqual(images.Count, features.Count);
        model.eval();   // the reference: the frozen body as it runs in training, batch norms on their statistics
        int index = 0;
        foreach (var batch in loader.Epoch(0))
        {
            using (batch)
            using (no_grad())
            {
                using var expected = model.ForwardFeatures(batch.Images).contiguous();
                for (int i = 0; i < batch.Count; i++, index++)
                {
                    float[] want = expected[i].data<float>().ToArray(), got = features.Load(index).Pixels;
                    double scale = want.Max(v => Math.Abs((double)v)), worst = want.Zip(got, (w, g) => Math.Abs(w - (double)g)).Max();
                    Assert.IsTrue(worst <= 1e-4 * scale, $"image {index}: largest difference {worst:G3} of {scale:G3}");
                }
            }
        }
        Assert.AreEqual(images.Count, index);
    }

    [TestMethod]
    public void TheHeadTrainedOnCachedFeaturesEqualsTheHeadTrainedOnTheImages()
    {
        var (trainSet, testSet) = Datasets.IdxFolder(Path.Combine(TestPaths.RepoRoot, "data", "mnist"));
        var (train, test, _) = DataSetup.Loaders("mnist", Datasets.Subset(trainSet, 20, 1), Datasets.Subset(testSet, 20, 1),
                                                 new LeNet5().Input, 32, augment: false, batchSize: 16, workers: 1, seed: 1);
        var config = new TrainConfig { Epochs = 3, LearningRate = 1e-2 };
        var info = new CheckpointInfo { Model = "lenet5", NumClasses = 10 };

        (Tensor Weight, double Top1) Trained(bool cached)
        {
            using var folder = new TempFolder(cached ? "cached" : "images");
            var model = FrozenLeNet();
            Assert.IsNull(FeatureCache.WhyNot(model, augment: false));
            var (trainLoader, testLoader, head) = (train, test, (nn.Module<Tensor, Tensor>?)null);
            if (cached)
            {
                var trainFeatures = FeatureCache.Features(model, train, CPU, "training")!;
                var testFeatures = FeatureCache.Features(model, test, CPU, "held-out")!;
                Assert.AreEqual(new SampleGeometry(16, 5, 5), trainFeatures.Geometry, "LeNet-5's body ends in 16 maps of 5 x 5");
                (trainLoader, testLoader) = FeatureCache.Loaders(trainFeatures, testFeatures, train, test);
                head = new FeatureCache.Head(model);
            }
            var result = new Trainer(model, config, trainLoader, testLoader, new RunFolder(folder.Path), info, forward: head).Fit(log: _ => { });
            return (model.state_dict()["classifier.4.weight"].detach().clone(), result.LastValidation!.Top1);
        }

        var (imagesWeight, imagesTop1) = Trained(cached: false);
        var (cachedWeight, cachedTop1) = Trained(cached: true);
        Assert.AreEqual(imagesTop1, cachedTop1, 1e-3, "the same held-out accuracy to 0.1 point");
        Assert.IsTrue(imagesWeight.allclose(cachedWeight, rtol: 1e-4, atol: 1e-5),
                      $"the same head weights; largest difference {(imagesWeight - cachedWeight).abs().max().item<float>()}");
        Assert.IsFalse(imagesWeight.allclose(FrozenLeNet().state_dict()["classifier.4.weight"]), "the head did train");
    }

    [TestMethod]
    public void TheRangeTestOnCachedFeaturesRestoresTheWholeModel()
    {
        var (trainSet, _) = Datasets.IdxFolder(Path.Combine(TestPaths.RepoRoot, "data", "mnist"));
        var images = new Cnn.Training.Data.DataLoader(Datasets.Subset(trainSet, 10, 1),
            DataSetup.Pipeline(trainSet.Geometry, new LeNet5().Input, DataSetup.ForTraining("mnist", trainSet.Geometry, 1, 32, false), false).Train,
            16, shuffle: true, seed: 1, workers: 1);
        var model = FrozenLeNet();
        var before = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        var features = FeatureCache.Features(model, images, CPU, "training")!;
        var (cached, _) = FeatureCache.Loaders(features, features, images, images);
        using var adam = optim.Adam(Freezing.TrainableParameters(model), 1e-3);

        var search = LearningRateFinder.Run(new FeatureCache.Head(model), adam, () => cached.Epoch(0), CPU, steps: 20);

        Assert.IsTrue(search.Rates.Length >= 2, search.Ended);
        foreach (var (key, value) in model.state_dict())
            Assert.IsTrue(value.equal(before[key]).all().item<bool>(), $"{key} is restored after the range test");
    }

    [TestMethod]
    public void TheCacheIsRefusedWithItsReasonWhenTheImagesOrTheBodyWouldChange()
    {
        var model = FrozenLeNet();
        StringAssert.Contains(FeatureCache.WhyNot(model, augment: true), "augmentation");
        Freezing.Unfreeze(model);
        StringAssert.Contains(FeatureCache.WhyNot(model, augment: false), "features.0.weight trains");
        var resnet = new ResNet(ResNetConfig.ResNet18 with { Layers = [1, 1, 1, 1] }, 4);
        Freezing.FreezeAllButHead(resnet);
        Assert.IsNull(FeatureCache.WhyNot(resnet, augment: false));
        foreach (var (n, p) in resnet.named_parameters()) if (n.StartsWith("bn1.", StringComparison.Ordinal)) p.requires_grad = true;
        StringAssert.Contains(FeatureCache.WhyNot(resnet, augment: false), "bn1.weight trains");
    }

    /// <summary>Why the cache needs no dropout check: no family's body is random in training mode.</summary>
    [TestMethod]
    [DynamicData(nameof(ZooModels.PerFamily), typeof(ZooModels))]
    public void EveryBodyComputesTheSameInTrainingAsInEvaluation(string name)
    {
        using var model = ModelRegistry.Create(name, 10);
        Freezing.FreezeAllButHead(model);
        Freezing.SetTrainingMode(model, true);
        torch.manual_seed(1);
        using var x = torch.randn(2, model.Input.Channels, model.Input.MinHeight, model.Input.MinWidth);
        using var _ = no_grad();
        using var once = model.ForwardFeatures(x);
        using var twice = model.ForwardFeatures(x);
        model.eval();
        using var evaluated = model.ForwardFeatures(x);
        Assert.IsTrue(once.equal(twice).all().item<bool>() && once.allclose(evaluated, rtol: 1e-5, atol: 1e-6), $"{name}'s body is random or mode-dependent");
    }
}
