using Cnn.Zoo.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cnn.Zoo.Models;

/// <summary>The two AlexNets: torchvision's single-GPU variant and the network of the 2012 paper.</summary>
public enum AlexNetVariant
{
    /// <summary>torchvision's <c>alexnet</c> (after Krizhevsky's "one weird trick", 2014): 64-192-384-256-256 filters,
    /// 224x224 input, adaptive pooling to 6x6.</summary>
    TorchVision,
    /// <summary>As in the paper and the course notes: 227x227 input, 96-256-384-384-256 filters, no padding on conv1.
    /// Local response normalisation and the two-GPU split are left out.</summary>
    Original,
}

/// <summary>
/// AlexNet (Krizhevsky, Sutskever, Hinton, "ImageNet Classification with Deep Convolutional Neural Networks", 2012):
/// five convolutions with ReLU and overlapping 3x3/2 max-pooling, then FC 4096 - FC 4096 - classes with dropout.
/// The original chain: 227x227x3 -> 55x55x96 -> 27x27x96 -> 27x27x256 -> 13x13x256 -> 13x13x384 -> 13x13x384
/// -> 13x13x256 -> 6x6x256 = 9216.
/// </summary>
public sealed class AlexNet : ZooModel
{
    private readonly Sequential features;
    private readonly AdaptiveAvgPool2d avgpool;
    private Sequential classifier;

    public AlexNet(int numClasses = 1000, AlexNetVariant variant = AlexNetVariant.TorchVision, double dropout = 0.5)
        : base(variant == AlexNetVariant.Original ? "alexnet_original" : "alexnet",
               variant == AlexNetVariant.Original
                   ? new InputSpec(3, 227, 227, 227, 227, FixedSize: true)
                   : new InputSpec(3, 224, 224, 63, 63),
               numClasses, classes => new AlexNet(classes, variant, dropout))
    {
        Variant = variant;
        var c = variant == AlexNetVariant.Original ? new[] { 96L, 256, 384, 384, 256 } : new[] { 64L, 192, 384, 256, 256 };
        long pad1 = variant == AlexNetVariant.Original ? 0 : 2;
        features = nn.Sequential(
            nn.Conv2d(3, c[0], 11, stride: 4, padding: pad1), nn.ReLU(inplace: true), nn.MaxPool2d(3, 2),
            nn.Conv2d(c[0], c[1], 5, padding: 2), nn.ReLU(inplace: true), nn.MaxPool2d(3, 2),
            nn.Conv2d(c[1], c[2], 3, padding: 1), nn.ReLU(inplace: true),
            nn.Conv2d(c[2], c[3], 3, padding: 1), nn.ReLU(inplace: true),
            nn.Conv2d(c[3], c[4], 3, padding: 1), nn.ReLU(inplace: true), nn.MaxPool2d(3, 2));
        avgpool = nn.AdaptiveAvgPool2d(6);
        classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(c[4] * 6 * 6, 4096), nn.ReLU(inplace: true),
            nn.Dropout(dropout), nn.Linear(4096, 4096), nn.ReLU(inplace: true),
            nn.Linear(4096, numClasses));
        NumFeatures = c[4];
        RegisterComponents();
    }

    public AlexNetVariant Variant { get; }
    public override long NumFeatures { get; }
    public override string ClassifierName => "classifier.6";
    public override string FirstConvName => "features.0";

    public override Tensor ForwardFeatures(Tensor x) => features.call(x);

    public override Tensor ForwardHead(Tensor features)
    {
        using var scope = NewDisposeScope();
        var pooled = avgpool.call(features).flatten(1);   // N x 9216
        return classifier.call(pooled).MoveToOuterDisposeScope();
    }

    protected override void ReplaceClassifier(int numClasses)
    {
        classifier = WithLastReplaced(classifier, nn.Linear(4096, numClasses));
        ReplaceTail(("classifier", classifier));
    }
}
