using Cnn.Zoo.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Training.Benchmarks;

/// <summary>
/// TorchSharp's own port of torchvision (the TorchVision NuGet package, used only by the benchmark) as the reference a
/// zoo model is compared with: same architecture, same weights, run in its plain form.
/// </summary>
public static class ReferenceModels
{
    /// <summary>The port's model for a zoo name, or null when the port has none (LeNet-5, MobileNet V1, ...).</summary>
    public static nn.Module<Tensor, Tensor>? Create(string zooName, int numClasses) => zooName switch
    {
        "alexnet" => torchvision.models.alexnet(numClasses),
        "vgg11" => torchvision.models.vgg11(numClasses),
        "vgg11_bn" => torchvision.models.vgg11_bn(numClasses),
        "vgg13" => torchvision.models.vgg13(numClasses),
        "vgg13_bn" => torchvision.models.vgg13_bn(numClasses),
        "vgg16" => torchvision.models.vgg16(numClasses),
        "vgg16_bn" => torchvision.models.vgg16_bn(numClasses),
        "vgg19" => torchvision.models.vgg19(numClasses),
        "vgg19_bn" => torchvision.models.vgg19_bn(numClasses),
        "resnet18" => torchvision.models.resnet18(numClasses),
        "resnet34" => torchvision.models.resnet34(numClasses),
        "resnet50" => torchvision.models.resnet50(numClasses),
        "resnet101" => torchvision.models.resnet101(numClasses),
        "resnet152" => torchvision.models.resnet152(numClasses),
        "resnext50_32x4d" => torchvision.models.resnext50_32x4d(numClasses),
        "wide_resnet50_2" => torchvision.models.wide_resnet50_2(numClasses),
        "googlenet" => torchvision.models.googlenet(numClasses),
        "mobilenet_v2" => torchvision.models.mobilenet_v2(numClasses),
        _ => null,
    };

    /// <summary>
    /// Copies every tensor of <paramref name="source"/> into the reference by key and shape. Returns the reference's
    /// keys that received nothing (empty when the two models are the same network with the same weights).
    /// </summary>
    public static List<string> CopyWeights(ZooModel source, nn.Module reference)
    {
        var from = source.state_dict();
        var missing = new List<string>();
        using var _ = no_grad();
        foreach (var (key, target) in reference.state_dict())
        {
            if (from.TryGetValue(key, out var value) && value.shape.SequenceEqual(target.shape)) target.copy_(value);
            else missing.Add(key);
        }
        return missing;
    }
}
