using Cnn.Zoo;
using Cnn.Zoo.Models;
using TorchSharp;

namespace Cnn.Tests.Support;

/// <summary>The registry as test data: every test driven by it covers a model the moment it is registered.</summary>
public static class ZooModels
{
    /// <summary>Every registered model name, for <c>[DynamicData(nameof(ZooModels.All), typeof(ZooModels))]</c>.
    /// Loops over all of them belong in the Slow category: the eight VGGs alone hold over a billion weights.</summary>
    public static IEnumerable<object[]> All => ModelRegistry.Names.Select(n => new object[] { n });

    /// <summary>
    /// One model per family and kind of block, for tests that run models: LeNet-5, both AlexNets (the original has
    /// grouped convolutions and local response norm), VGG (with batch norm), ResNet with basic blocks, with
    /// bottlenecks and with grouped bottlenecks (ResNeXt), GoogLeNet, MobileNet V1 and V2. The other registered models
    /// are these with other depths or widths; their structure is checked on the meta device (<see cref="OnMeta"/>)
    /// against torchvision's. RegistryTests keeps the list complete: every name starts with one of <see cref="Families"/>.
    /// </summary>
    public static IEnumerable<object[]> PerFamily => PerFamilyNames.Select(n => new object[] { n });

    public static readonly IReadOnlyList<string> PerFamilyNames =
        ["lenet5", "alexnet", "alexnet_original", "vgg11_bn", "resnet18", "resnet50", "resnext50_32x4d", "googlenet", "mobilenet_v1", "mobilenet_v2"];

    /// <summary>The name prefixes of the families; a registered model outside them needs a row in <see cref="PerFamilyNames"/>.</summary>
    public static readonly IReadOnlyList<string> Families =
        ["lenet", "alexnet", "vgg", "resnet", "resnext", "wide_resnet", "googlenet", "mobilenet_v1", "mobilenet_v2"];

    /// <summary>The models torchvision 0.14 has with the same keys (the ones with fixtures in Fixtures/torchvision).</summary>
    public static IEnumerable<object[]> InTorchVision => ModelRegistry.All.Where(e => e.InTorchVision).Select(e => new object[] { e.Name });

    /// <summary><see cref="PerFamily"/>'s models that torchvision has, for tests that compare outputs with its fixtures.</summary>
    public static IEnumerable<object[]> PerFamilyInTorchVision
        => ModelRegistry.All.Where(e => e.InTorchVision && PerFamilyNames.Contains(e.Name)).Select(e => new object[] { e.Name });

    /// <summary>The options that build every part a model has: GoogLeNet with its auxiliary classifiers, as torchvision's
    /// state dicts hold them.</summary>
    public static ModelOptions WithEveryPart(string name)
        => name == "googlenet" ? ModelOptions.Parse(["aux_logits=true"]) : ModelOptions.None;

    /// <summary>
    /// The smallest square input each model takes, but at least 64x64, so the whole zoo runs quickly in CI. At 64x64
    /// the last stage is still 2x2: at 1x1 with batch 2, a training-mode batch norm cancels any per-channel shift
    /// before it, and the bias gradients would be exactly zero.
    /// </summary>
    public static long[] SmallInput(ZooModel model, int batch = 2)
        => model.Input.FixedSize
            ? [batch, model.Input.Channels, model.Input.Height, model.Input.Width]
            : [batch, model.Input.Channels, Math.Max(model.Input.MinHeight, 64), Math.Max(model.Input.MinWidth, 64)];

    /// <summary>
    /// Builds a registry model on libtorch's meta device: every parameter and buffer has its shape and dtype but no
    /// storage, so the structure of even a VGG (keys, shapes, parameter counts) costs milliseconds instead of seconds
    /// of allocating and initialising 130 M weights. Nothing runs on it: libtorch 2.10 has no meta convolution.
    /// RegistryTests checks that a meta model has the CPU model's keys, shapes and dtypes.
    /// </summary>
    public static ZooModel OnMeta(string name, int numClasses = 1000, ModelOptions? options = null)
    {
        var previous = torch.get_default_device();
        torch.set_default_device(torch.META);
        try { return ModelRegistry.Create(name, numClasses, options); }
        finally { torch.set_default_device(previous); }
    }
}
