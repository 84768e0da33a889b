using Cnn.Zoo.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cnn.Zoo.Models;

/// <summary>Channel rounding shared by the MobileNets (torchvision's <c>_make_divisible</c>).</summary>
public static class ChannelRounding
{
    /// <summary>Rounds <paramref name="channels"/> to the nearest multiple of <paramref name="divisor"/>, never below the
    /// divisor and never more than 10% under the unrounded value.</summary>
    public static int MakeDivisible(double channels, int divisor = 8)
    {
        int rounded = Math.Max(divisor, (int)(channels + divisor / 2.0) / divisor * divisor);
        return rounded < 0.9 * channels ? rounded + divisor : rounded;
    }
}

/// <summary>One row of the MobileNet V1 body: a depthwise-separable convolution to <paramref name="Channels"/> at <paramref name="Stride"/>.</summary>
public sealed record SeparableSetting(int Channels, int Stride);

/// <summary>
/// MobileNet V1 (Howard et al., "MobileNets: Efficient Convolutional Neural Networks for Mobile Vision
/// Applications", 2017): a 3x3/2 convolution, then 13 depthwise-separable convolutions down to 7x7x1024 at 224x224,
/// global average pooling and a classifier. 4,231,976 parameters at width 1.0 and 1000 classes; 28 weight layers.
/// <para>Not in torchvision, so the keys are this project's: <c>features.{i}.dw/pw.{0,1}</c>, <c>classifier.1</c>.
/// The width multiplier rounds channels with <see cref="ChannelRounding.MakeDivisible"/> like MobileNetV2.</para>
/// </summary>
public sealed class MobileNetV1 : ZooModel
{
    public static readonly IReadOnlyList<SeparableSetting> Settings =
    [
        new(64, 1), new(128, 2), new(128, 1), new(256, 2), new(256, 1), new(512, 2),
        new(512, 1), new(512, 1), new(512, 1), new(512, 1), new(512, 1), new(1024, 2), new(1024, 1),
    ];

    private readonly Sequential features;
    private readonly AdaptiveAvgPool2d avgpool;
    private Sequential classifier;

    public MobileNetV1(int numClasses = 1000, double widthMultiplier = 1.0, double dropout = 0.2)
        : base("mobilenet_v1", new InputSpec(3, 224, 224, 32, 32), numClasses, classes => new MobileNetV1(classes, widthMultiplier, dropout))
    {
        if (widthMultiplier <= 0) throw new InvalidChoiceException($"expected a width multiplier > 0; found {widthMultiplier}");
        WidthMultiplier = widthMultiplier;
        int channels = ChannelRounding.MakeDivisible(32 * widthMultiplier);
        var layers = new List<nn.Module<Tensor, Tensor>> { new ConvNormAct(3, channels, 3, stride: 2) };
        foreach (var setting in Settings)
        {
            int output = ChannelRounding.MakeDivisible(setting.Channels * widthMultiplier);
            layers.Add(new DepthwiseSeparable(channels, output, setting.Stride));
            channels = output;
        }
        features = nn.Sequential(layers);
        avgpool = nn.AdaptiveAvgPool2d(1);
        classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(channels, numClasses));
        NumFeatures = channels;
        RegisterComponents();
        Init.HeNormal(this);
    }

    public double WidthMultiplier { get; }
    public override long NumFeatures { get; }
    public override string ClassifierName => "classifier.1";
    public override string FirstConvName => "features.0.0";

    public override Tensor ForwardFeatures(Tensor x) => features.call(x);   // N x 1024 x H/32 x W/32

    public override Tensor ForwardHead(Tensor features)
    {
        using var scope = NewDisposeScope();
        return classifier.call(avgpool.call(features).flatten(1)).MoveToOuterDisposeScope();
    }

    protected override void ReplaceClassifier(int numClasses)
    {
        classifier = WithLastReplaced(classifier, Init.Linear(NumFeatures, numClasses));
        ReplaceTail(("classifier", classifier));
    }
}

/// <summary>One row (t, c, n, s) of MobileNetV2's table: expansion, output channels, repeats, stride of the first.</summary>
public sealed record InvertedResidualSetting(int ExpandRatio, int Channels, int Repeats, int Stride);

/// <summary>
/// MobileNetV2 (Sandler et al., "MobileNetV2: Inverted Residuals and Linear Bottlenecks", 2018): a 3x3/2 stem, 17
/// inverted residual blocks (expansion, depthwise, linear projection; residual when stride 1 and widths match), a 1x1
/// convolution to 1280, pooling and a classifier. 7x7x1280 at 224x224; 3,504,872 parameters; keys as torchvision's.
/// </summary>
public sealed class MobileNetV2 : ZooModel
{
    public static readonly IReadOnlyList<InvertedResidualSetting> Settings =
    [
        new(1, 16, 1, 1), new(6, 24, 2, 2), new(6, 32, 3, 2), new(6, 64, 4, 2),
        new(6, 96, 3, 1), new(6, 160, 3, 2), new(6, 320, 1, 1),
    ];

    private readonly Sequential features;
    private Sequential classifier;

    public MobileNetV2(int numClasses = 1000, double widthMultiplier = 1.0, double dropout = 0.2)
        : base("mobilenet_v2", new InputSpec(3, 224, 224, 32, 32), numClasses, classes => new MobileNetV2(classes, widthMultiplier, dropout))
    {
        if (widthMultiplier <= 0) throw new InvalidChoiceException($"expected a width multiplier > 0; found {widthMultiplier}");
        WidthMultiplier = widthMultiplier;
        int channels = ChannelRounding.MakeDivisible(32 * widthMultiplier);
        int lastChannels = ChannelRounding.MakeDivisible(1280 * Math.Max(1.0, widthMultiplier));
        var layers = new List<nn.Module<Tensor, Tensor>> { new ConvNormAct(3, channels, 3, stride: 2, activation: Activation.ReLU6) };
        foreach (var (t, c, n, s) in Settings)
        {
            int output = ChannelRounding.MakeDivisible(c * widthMultiplier);
            for (int i = 0; i < n; i++)
            {
                layers.Add(new InvertedResidual(channels, output, i == 0 ? s : 1, t));
                channels = output;
            }
        }
        layers.Add(new ConvNormAct(channels, lastChannels, 1, activation: Activation.ReLU6));
        features = nn.Sequential(layers);
        classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(lastChannels, numClasses));
        NumFeatures = lastChannels;
        RegisterComponents();
        Init.HeNormal(this);
    }

    public double WidthMultiplier { get; }
    public override long NumFeatures { get; }
    public override string ClassifierName => "classifier.1";
    public override string FirstConvName => "features.0.0";

    public override Tensor ForwardFeatures(Tensor x) => features.call(x);   // N x 1280 x H/32 x W/32

    public override Tensor ForwardHead(Tensor features)
    {
        using var scope = NewDisposeScope();
        var pooled = nn.functional.adaptive_avg_pool2d(features, 1).flatten(1);   // N x 1280
        return classifier.call(pooled).MoveToOuterDisposeScope();
    }

    protected override void ReplaceClassifier(int numClasses)
    {
        classifier = WithLastReplaced(classifier, Init.Linear(NumFeatures, numClasses));
        ReplaceTail(("classifier", classifier));
    }
}
