using Cnn.Zoo.Layers;
using Cnn.Zoo.Models;

namespace Cnn.Zoo;

/// <summary>The one list of zoo models: tests enumerate it, the CLI lists and builds from it.</summary>
public static class ModelRegistry
{
    const string LeNetPaper = "LeCun et al. 1998";
    const string AlexNetPaper = "Krizhevsky et al. 2012";
    const string VggPaper = "Simonyan & Zisserman 2014";
    const string ResNetPaper = "He et al. 2015";

    static readonly ModelEntry[] entries =
    [
        new("lenet5", LeNetPaper, false, (n, o) => new LeNet5(n,
            o.Get("activation", Activation.Tanh, "tanh or relu"), o.Get("pooling", Pooling.Average, "average or max"),
            o.Get("in_channels", 1)), DefaultClasses: 10, TrainingOptions: ["activation=relu", "pooling=max"]),
        new("alexnet", AlexNetPaper + " (torchvision variant)", true,
            (n, o) => new AlexNet(n, AlexNetVariant.TorchVision, o.Get("dropout", 0.5))),
        new("alexnet_original", AlexNetPaper, false,
            (n, o) => new AlexNet(n, AlexNetVariant.Original, o.Get("dropout", 0.5))),
        .. Vgg(VggConfig.Vgg11), .. Vgg(VggConfig.Vgg13), .. Vgg(VggConfig.Vgg16), .. Vgg(VggConfig.Vgg19),
        ResNet("resnet18", ResNetConfig.ResNet18),
        ResNet("resnet34", ResNetConfig.ResNet34),
        ResNet("resnet50", ResNetConfig.ResNet50),
        ResNet("resnet101", ResNetConfig.ResNet101),
        ResNet("resnet152", ResNetConfig.ResNet152),
        ResNet("resnext50_32x4d", ResNetConfig.ResNet50, groups: 32, widthPerGroup: 4, paper: "Xie et al. 2017"),
        ResNet("wide_resnet50_2", ResNetConfig.ResNet50, widthPerGroup: 128, paper: "Zagoruyko & Komodakis 2016"),
        new("googlenet", "Szegedy et al. 2014", true, (n, o) => new GoogLeNet(n,
            o.Get("aux_logits", false, "build the auxiliary classifiers"), o.Get("transform_input", false),
            o.Get("dropout", 0.2))),
        new("mobilenet_v1", "Howard et al. 2017", false,
            (n, o) => new MobileNetV1(n, o.Get("width", 1.0, "width multiplier"), o.Get("dropout", 0.2))),
        new("mobilenet_v2", "Sandler et al. 2018", true,
            (n, o) => new MobileNetV2(n, o.Get("width", 1.0, "width multiplier"), o.Get("dropout", 0.2))),
    ];

    static IEnumerable<ModelEntry> Vgg(VggConfig config) =>
    [
        new(config.Name, VggPaper, true, (n, o) => new Vgg(config, false, n, o.Get("dropout", 0.5))),
        new(config.Name + "_bn", VggPaper + " + batch norm", true, (n, o) => new Vgg(config, true, n, o.Get("dropout", 0.5))),
    ];

    static ModelEntry ResNet(string name, ResNetConfig config, int groups = 1, int widthPerGroup = 64, string paper = ResNetPaper)
        => new(name, paper, true, (n, o) => new ResNet(
            o.Get("layers", config.Layers.ToArray(), "blocks per stage, e.g. 2,2,2,3") is var layers
                ? config with { Layers = layers } : config,
            n, name,
            o.Get("zero_init_residual", false, "zero the last BN of each block"),
            o.Get("groups", groups), o.Get("width_per_group", widthPerGroup),
            o.Get("cifar_stem", false, "3x3/1 stem without max-pool, for 32x32 images")));

    /// <summary>Every registered model, in the order of the README's table.</summary>
    public static IReadOnlyList<ModelEntry> All => entries;

    /// <summary>Registered names.</summary>
    public static IEnumerable<string> Names => entries.Select(e => e.Name);

    /// <summary>The entry for <paramref name="name"/>; an unknown name gets an error listing the known ones.</summary>
    public static ModelEntry Get(string name)
        => entries.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase))
           ?? throw new InvalidChoiceException($"unknown model '{name}'; known models: {string.Join(", ", Names)}");

    /// <summary>Builds <paramref name="name"/> for <paramref name="numClasses"/> classes (by default the entry's: 10 for
    /// LeNet-5, 1,000 for the ImageNet models); unknown options are an error.</summary>
    public static ZooModel Create(string name, int? numClasses = null, ModelOptions? options = null)
    {
        var entry = Get(name);
        options ??= ModelOptions.None;
        var model = entry.Create(numClasses ?? entry.DefaultClasses, options);
        options.EnsureAllRead(entry.Name);
        return model;
    }
}
