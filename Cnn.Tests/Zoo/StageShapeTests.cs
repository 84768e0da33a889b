using Cnn.Zoo;
using Cnn.Zoo.Layers;
using Cnn.Zoo.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Tests.Zoo;

/// <summary>Every stage shape the course notes spell out, measured on the real modules.</summary>
[TestClass]
public sealed class StageShapeTests
{
    /// <summary>Output shapes (without the batch dimension, as "HxWxC") of the named submodules, in call order.</summary>
    static List<string> Outputs(nn.Module<Tensor, Tensor> model, long[] input, Func<string, bool> select)
    {
        var shapes = new List<string>();
        var removers = new List<Action>();
        foreach (var (name, module) in model.named_modules())
        {
            if (!select(name) || module is not nn.Module<Tensor, Tensor> m) continue;
            var r = m.register_forward_hook((_, _, y) =>
            {
                shapes.Add(y.dim() == 4 ? $"{y.shape[2]}x{y.shape[3]}x{y.shape[1]}" : $"{y.shape[1]}");
                return y;
            });
            removers.Add(r.remove);
        }
        model.eval();
        using (no_grad())
        using (var scope = NewDisposeScope()) model.call(torch.zeros(input));
        removers.ForEach(r => r());
        return shapes;
    }

    [TestMethod]
    public void OriginalAlexNetChainFrom227()
    {
        using var model = ModelRegistry.Create("alexnet_original");
        var shapes = Outputs(model, [1, 3, 227, 227], n => n is "features.0" or "features.2" or "features.3" or "features.5"
                                                              or "features.6" or "features.8" or "features.10" or "features.12");
        CollectionAssert.AreEqual(new[] { "55x55x96", "27x27x96", "27x27x256", "13x13x256", "13x13x384", "13x13x384", "13x13x256", "6x6x256" }, shapes);
        Assert.AreEqual(9216, model.state_dict()["classifier.1.weight"].shape[1]);
    }

    [TestMethod]
    public void Vgg16HalvesHeightAndWidthAndDoublesChannelsDownTo7x7x512()
    {
        using var model = ModelRegistry.Create("vgg16");
        var pools = Outputs(model, [1, 3, 224, 224], n => n.StartsWith("features.", StringComparison.Ordinal) &&
                                                           model.named_modules().First(m => m.name == n).module is TorchSharp.Modules.MaxPool2d);
        CollectionAssert.AreEqual(new[] { "112x112x64", "56x56x128", "28x28x256", "14x14x512", "7x7x512" }, pools);
        Assert.AreEqual(16, VggConfig.Vgg16.Depth);
        Assert.AreEqual(19, VggConfig.Vgg19.Depth);
        Assert.AreEqual(13, model.named_modules().Count(m => m.module is TorchSharp.Modules.Conv2d), "13 convolutions + 3 FC = 16");
    }

    [TestMethod]
    public void ResNet50StagesAndItsFiftyLayers()
    {
        using var model = ModelRegistry.Create("resnet50");
        var stages = Outputs(model, [1, 3, 224, 224], n => n is "layer1" or "layer2" or "layer3" or "layer4");
        CollectionAssert.AreEqual(new[] { "56x56x256", "28x28x512", "14x14x1024", "7x7x2048" }, stages);
        Assert.AreEqual(50, ResNetConfig.ResNet50.Depth);
        Assert.AreEqual(152, ResNetConfig.ResNet152.Depth);
        Assert.AreEqual(18, ResNetConfig.ResNet18.Depth);
        // Each stage opens with a convolutional block (projection shortcut) followed by identity blocks.
        var blocks = model.named_modules().Where(m => m.module is Bottleneck).Select(m => (m.name, ((Bottleneck)m.module).HasProjection)).ToList();
        Assert.AreEqual(16, blocks.Count);
        CollectionAssert.AreEqual(new[] { "layer1.0", "layer2.0", "layer3.0", "layer4.0" }, blocks.Where(b => b.HasProjection).Select(b => b.name).ToList());
    }

    [TestMethod]
    public void IdentityAndConvolutionalBlocksKeepOrChangeTheShape()
    {
        using var identity = Bottleneck.IdentityBlock(256);
        using var conv = Bottleneck.ConvolutionalBlock(256, 128, stride: 2);
        using var x = torch.randn(1, 256, 14, 14);
        identity.eval(); conv.eval();
        using var _ = no_grad();
        CollectionAssert.AreEqual(new long[] { 1, 256, 14, 14 }, identity.call(x).shape);
        CollectionAssert.AreEqual(new long[] { 1, 512, 7, 7 }, conv.call(x).shape);
        Assert.IsFalse(identity.HasProjection);
        Assert.IsTrue(conv.HasProjection);
        Assert.ThrowsExactly<ArgumentException>(() => Bottleneck.ConvolutionalBlock(256, 64, stride: 1));
    }

    [TestMethod]
    public void ZeroInitialisedResidualMakesEachBlockTheIdentityPlusReLU()
    {
        using var model = ModelRegistry.Create("resnet18", 10, ModelOptions.Parse(["zero_init_residual=true"]));
        Assert.AreEqual(0f, model.state_dict()["layer1.0.bn2.weight"].abs().sum().item<float>());
        using var block = new BasicBlock(64, 64);
        block.ZeroInitResidual();
        block.eval();
        using var x = torch.randn(1, 64, 8, 8);
        using var _ = no_grad();
        Assert.IsTrue(torch.allclose(block.call(x), x.relu()), "with F(x) = 0 the block passes ReLU(x) through");
    }

    [TestMethod]
    public void GoogLeNetInceptionOutputs()
    {
        using var model = ModelRegistry.Create("googlenet");
        var outputs = Outputs(model, [1, 3, 224, 224], n => n.StartsWith("inception", StringComparison.Ordinal) && !n.Contains('.'));
        CollectionAssert.AreEqual(new[] { "256", "480", "512", "512", "512", "528", "832", "832", "1024" },
                                  outputs.Select(s => s.Split('x')[2]).ToList());
        CollectionAssert.AreEqual(new[] { "28", "28", "14", "14", "14", "14", "14", "7", "7" }, outputs.Select(s => s.Split('x')[0]).ToList());
    }

    [TestMethod]
    public void MobileNetsEndAt7x7WithTheirWidths()
    {
        using var v1 = ModelRegistry.Create("mobilenet_v1");
        using var v2 = ModelRegistry.Create("mobilenet_v2");
        using var x = torch.zeros(1, 3, 224, 224);
        v1.eval(); v2.eval();
        using var _ = no_grad();
        CollectionAssert.AreEqual(new long[] { 1, 1024, 7, 7 }, v1.ForwardFeatures(x).shape);
        CollectionAssert.AreEqual(new long[] { 1, 1280, 7, 7 }, v2.ForwardFeatures(x).shape);
        // Any resolution at or above the minimum works (the head pools globally).
        CollectionAssert.AreEqual(new long[] { 1, 1024, 5, 5 }, v1.ForwardFeatures(torch.zeros(1, 3, 160, 160)).shape);
    }

    [TestMethod]
    public void InvertedResidualAddsTheInputOnlyWhenShapesMatch()
    {
        using var same = new InvertedResidual(24, 24, 1, 6);
        using var down = new InvertedResidual(24, 32, 2, 6);
        Assert.IsTrue(same.UsesResidual);
        Assert.IsFalse(down.UsesResidual);
        var keys = same.state_dict().Keys.ToList();
        CollectionAssert.AreEqual(new[] { "conv.0.0.weight", "conv.0.1.weight", "conv.1.0.weight", "conv.1.1.weight", "conv.2.weight", "conv.3.weight" },
                                  keys.Where(k => k.EndsWith(".weight", StringComparison.Ordinal)).ToList(),
                                  "expansion, depthwise, linear projection, its batch norm");
        Assert.AreEqual(144, same.state_dict()["conv.1.0.weight"].shape[0], "depthwise works at 24 x 6 = 144 channels");
        Assert.AreEqual(1, same.state_dict()["conv.1.0.weight"].shape[1], "one filter per channel");
    }
}
