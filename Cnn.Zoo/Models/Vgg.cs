using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cnn.Zoo.Models;

/// <summary>One VGG stage: <paramref name="Convs"/> 3x3 "same" convolutions of <paramref name="Channels"/> filters, then a 2x2/2 max-pool.</summary>
public sealed record VggStage(int Convs, int Channels);

/// <summary>A VGG depth: its five stages.</summary>
public sealed record VggConfig(string Name, IReadOnlyList<VggStage> Stages)
{
    /// <summary>Weight layers as the paper counts them: every convolution plus the three fully-connected layers.</summary>
    public int Depth => Stages.Sum(s => s.Convs) + 3;

    static VggConfig Make(string name, params int[] convsPerStage)
    {
        int[] channels = [64, 128, 256, 512, 512];
        return new VggConfig(name, convsPerStage.Select((n, i) => new VggStage(n, channels[i])).ToArray());
    }

    public static readonly VggConfig Vgg11 = Make("vgg11", 1, 1, 2, 2, 2);
    public static readonly VggConfig Vgg13 = Make("vgg13", 2, 2, 2, 2, 2);
    public static readonly VggConfig Vgg16 = Make("vgg16", 2, 2, 3, 3, 3);
    public static readonly VggConfig Vgg19 = Make("vgg19", 2, 2, 4, 4, 4);
}

/// <summary>
/// VGG (Simonyan &amp; Zisserman, "Very Deep Convolutional Networks for Large-Scale Image Recognition", 2014):
/// only 3x3 "same" convolutions at stride 1 and 2x2/2 max-pools; height and width halve at each pool while the
/// channels double (64 -> 512). 224x224x3 -> 7x7x512 -> FC 4096 -> FC 4096 -> classes. VGG-16 has 138M parameters.
/// The <c>_bn</c> variants add batch norm after every convolution (not in the paper; torchvision's).
/// </summary>
public sealed class Vgg : ZooModel
{
    private readonly Sequential features;
    private readonly AdaptiveAvgPool2d avgpool;
    private Sequential classifier;

    public Vgg(VggConfig config, bool batchNorm = false, int numClasses = 1000, double dropout = 0.5)
        : base(config.Name + (batchNorm ? "_bn" : ""), new InputSpec(3, 224, 224, 32, 32), numClasses,
               classes => new Vgg(config, batchNorm, classes, dropout))
    {
        Config = config;
        BatchNorm = batchNorm;
        var layers = new List<nn.Module<Tensor, Tensor>>();
        long channels = 3;
        foreach (var stage in config.Stages)
        {
            for (int i = 0; i < stage.Convs; i++)
            {
                layers.Add(nn.Conv2d(channels, stage.Channels, 3, padding: 1));
                if (batchNorm) layers.Add(nn.BatchNorm2d(stage.Channels));
                layers.Add(nn.ReLU(inplace: true));
                channels = stage.Channels;
            }
            layers.Add(nn.MaxPool2d(2, 2));
        }
        features = nn.Sequential(layers);
        avgpool = nn.AdaptiveAvgPool2d(7);
        classifier = nn.Sequential(
            nn.Linear(channels * 7 * 7, 4096), nn.ReLU(inplace: true), nn.Dropout(dropout),
            nn.Linear(4096, 4096), nn.ReLU(inplace: true), nn.Dropout(dropout),
            nn.Linear(4096, numClasses));
        NumFeatures = channels;
        RegisterComponents();
        Init.HeNormal(this);
    }

    public VggConfig Config { get; }
    public bool BatchNorm { get; }
    public override long NumFeatures { get; }
    public override string ClassifierName => "classifier.6";
    public override string FirstConvName => "features.0";

    public override Tensor ForwardFeatures(Tensor x) => features.call(x);   // N x 512 x H/32 x W/32

    public override Tensor ForwardHead(Tensor features)
    {
        using var scope = NewDisposeScope();
        var pooled = avgpool.call(features).flatten(1);   // N x 25088
        return classifier.call(pooled).MoveToOuterDisposeScope();
    }

    protected override void ReplaceClassifier(int numClasses)
    {
        classifier = WithLastReplaced(classifier, Init.Linear(4096, numClasses));
        ReplaceTail(("classifier", classifier));
    }
}
