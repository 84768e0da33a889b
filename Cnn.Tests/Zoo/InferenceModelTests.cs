using Cnn.Tests.Support;
using Cnn.Zoo;
using Cnn.Zoo.Inference;
using Cnn.Zoo.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cnn.Tests.Zoo;

/// <summary>The inference mode (BN folding, channels-last, inference_mode) changes speed, never the answer.</summary>
[TestClass]
public sealed class InferenceModelTests
{
    static int CountBatchNorms(nn.Module model) => model.modules().Count(m => m is BatchNorm2d);

    [TestMethod]
    [TestCategory("Slow")]   // two copies of one model per family with deterministic weights
    [DynamicData(nameof(ZooModels.PerFamily), typeof(ZooModels))]
    public void OptimizedModelGivesThePlainModelsOutputs(string name)
    {
        using var plain = ModelRegistry.Create(name, 10);
        using var fast = ModelRegistry.Create(name, 10);
        DeterministicWeights.Apply(plain);   // running statistics far from 0/1, so folding is not a no-op
        DeterministicWeights.Apply(fast);
        plain.eval();
        int batchNorms = CountBatchNorms(fast);

        // Float32 named: this test is about folding and layout, which must not change the answer at all.
        using var optimized = InferenceModel.Optimize(fast, new InferenceOptions(Precision: InferencePrecision.Float32));
        using var x = DeterministicWeights.Input(ZooModels.SmallInput(plain));
        using var _ = no_grad();
        using var expected = plain.call(x);
        using var actual = optimized.call(x);

        Assert.AreEqual(batchNorms, optimized.FoldedBatchNorms, "every conv-BN pair folds");
        Assert.AreEqual(0, CountBatchNorms(optimized), "no batch norm is left in the forward pass");
        Assert.AreEqual(MemoryFormat.ChannelsLastPays(plain.Input.Height, plain.Input.Width), optimized.ChannelsLast);
        if (optimized.ChannelsLast)
            Assert.IsTrue(optimized.Model.modules().OfType<Conv2d>().All(c => MemoryFormat.IsChannelsLast(c.weight!)),
                          "all convolution weights are channels-last");
        double scale = expected.abs().max().item<float>();
        double difference = (actual - expected).abs().max().item<float>();
        Assert.IsTrue(difference <= 1e-4 * scale,
                      $"{name}: max |optimized - plain| = {difference:G3}, output scale {scale:G3} (allowed 1e-4 relative)");
    }

    [TestMethod]
    public void EachOptimisationAloneAlsoKeepsTheOutputs()
    {
        using var plain = ModelRegistry.Create("resnet18", 10);
        DeterministicWeights.Apply(plain);
        plain.eval();
        using var x = DeterministicWeights.Input(2, 3, 64, 64);
        using var _ = no_grad();
        using var expected = plain.call(x);
        const InferencePrecision fp32 = InferencePrecision.Float32;
        foreach (var options in new[] { new InferenceOptions(true, MemoryLayout.Nchw, false, fp32), new InferenceOptions(false, MemoryLayout.ChannelsLast, false, fp32),
                                        new InferenceOptions(false, MemoryLayout.Nchw, true, fp32) })
        {
            using var copy = ModelRegistry.Create("resnet18", 10);
            DeterministicWeights.Apply(copy);
            using var optimized = InferenceModel.Optimize(copy, options);
            using var y = optimized.call(x);
            Assert.IsTrue(torch.allclose(y, expected, rtol: 1e-4, atol: 1e-4), $"{optimized.Description} changed the outputs");
        }
    }

    [TestMethod]
    public void AFoldedModelRefusesToTrainWithAMessage()
    {
        using var model = ModelRegistry.Create("resnet18", 10);
        using var optimized = InferenceModel.Optimize(model);
        Assert.IsTrue(model.IsInferenceOnly);
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => optimized.Model.train());
        StringAssert.Contains(error.Message, "folded");
        Assert.ThrowsExactly<InvalidOperationException>(() => optimized.train());
        Assert.IsFalse(optimized.training, "the wrapper reports eval mode, so code that restores a mode can call train(false)");
        optimized.train(false);
    }

    [TestMethod]
    public void FoldingATrainingModeModelIsRefused()
    {
        using var model = ModelRegistry.Create("mobilenet_v2", 10);
        model.train();
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => BatchNormFolding.Fold(model));
        StringAssert.Contains(error.Message, "eval()");
    }

    [TestMethod]
    public void ANormHeldInABatchNormTypedFieldGetsAMessageThatSaysHowToDeclareIt()
    {
        using var block = new TypedNormBlock();
        block.eval();
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => BatchNormFolding.Fold(block));
        StringAssert.Contains(error.Message, "TypedNormBlock.bn");
        StringAssert.Contains(error.Message, "nn.Module<Tensor, Tensor>");
    }

    [TestMethod]
    public void ChannelsLastKeepsShapeAndValuesAndChangesOnlyTheStrides()
    {
        using var x = torch.randn(2, 3, 4, 5);
        using var y = MemoryFormat.ToChannelsLast(x);
        CollectionAssert.AreEqual(x.shape, y.shape);
        CollectionAssert.AreEqual(new long[] { 60, 1, 15, 3 }, y.stride());
        Assert.IsTrue(MemoryFormat.IsChannelsLast(y));
        Assert.IsFalse(MemoryFormat.IsChannelsLast(x));
        Assert.IsTrue(torch.equal(x, y).all().item<bool>());
    }

    [TestMethod]
    public void AutoLayoutChoosesChannelsLastFrom64By64Up()
    {
        using var small = torch.randn(2, 3, 32, 32);
        using var large = torch.randn(2, 3, 64, 64);
        using var smallArranged = MemoryFormat.Arrange(small, MemoryLayout.Auto);
        using var largeArranged = MemoryFormat.Arrange(large, MemoryLayout.Auto);
        using var forced = MemoryFormat.Arrange(small, MemoryLayout.ChannelsLast);
        using var plain = MemoryFormat.Arrange(large, MemoryLayout.Nchw);
        Assert.IsFalse(MemoryFormat.IsChannelsLast(smallArranged));
        Assert.IsTrue(MemoryFormat.IsChannelsLast(largeArranged));
        Assert.IsTrue(MemoryFormat.IsChannelsLast(forced));
        Assert.IsTrue(plain.is_contiguous());
    }

    [TestMethod]
    public void ConvertingWeightsKeepsTheirTrainability()
    {
        using var model = ModelRegistry.Create("lenet5", 10);
        int converted = MemoryFormat.ConvertConvolutionWeights(model);
        // The first convolution has one input channel, so its NCHW and NHWC layouts coincide; only the second changes.
        Assert.AreEqual(1, converted);
        Assert.IsTrue(model.modules().OfType<Conv2d>().All(c => MemoryFormat.IsChannelsLast(c.weight!)));
        Assert.IsTrue(model.parameters().All(p => p.requires_grad));
        Assert.AreEqual(61_706, model.parameters().Sum(p => p.numel()));
    }

    private sealed class TypedNormBlock : nn.Module<Tensor, Tensor>
    {
        private readonly Conv2d conv = nn.Conv2d(3, 4, 3, bias: false);
        private readonly BatchNorm2d bn = nn.BatchNorm2d(4);

        public TypedNormBlock() : base(nameof(TypedNormBlock)) => RegisterComponents();

        public override Tensor forward(Tensor x) => bn.call(conv.call(x));
    }
}
