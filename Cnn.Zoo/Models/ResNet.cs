using Cnn.Zoo.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cnn.Zoo.Models;

/// <summary>A ResNet: which block it stacks and how many in each of its four stages.</summary>
public sealed record ResNetConfig(ResidualBlockKind Block, IReadOnlyList<int> Layers)
{
    /// <summary>Weight layers as the paper counts them: the stem convolution, the blocks' convolutions and the
    /// classifier (projection shortcuts not counted). ResNet-50: 1 + 16 x 3 + 1 = 50.</summary>
    public int Depth => 2 + Layers.Sum() * Block.Convolutions;

    public static readonly ResNetConfig ResNet18 = new(ResidualBlockKind.Basic, [2, 2, 2, 2]);
    public static readonly ResNetConfig ResNet34 = new(ResidualBlockKind.Basic, [3, 4, 6, 3]);
    public static readonly ResNetConfig ResNet50 = new(ResidualBlockKind.Bottleneck, [3, 4, 6, 3]);
    public static readonly ResNetConfig ResNet101 = new(ResidualBlockKind.Bottleneck, [3, 4, 23, 3]);
    public static readonly ResNetConfig ResNet152 = new(ResidualBlockKind.Bottleneck, [3, 8, 36, 3]);
}

/// <summary>
/// ResNet (He et al., "Deep Residual Learning for Image Recognition", 2015), one builder for every depth:
/// a 7x7/2 stem convolution and 3x3/2 max-pool, four stages of residual blocks (64, 128, 256, 512 planes; stages 2-4
/// open with stride 2), global average pooling and a linear classifier. ResNet-50 at 224x224 gives stage outputs
/// 56x56x256, 28x28x512, 14x14x1024, 7x7x2048.
/// <para>Options as in torchvision: <c>groups</c>/<c>widthPerGroup</c> (ResNeXt, Wide ResNet), zero-initialised last
/// BN in each block. <c>cifarStem</c> swaps the stem for a 3x3/1 convolution without max-pool, for 32x32 images.</para>
/// </summary>
public sealed class ResNet : ZooModel
{
    // Field order and names are torchvision's, so the state-dict keys are too.
    private readonly Conv2d conv1;
    // Typed as a module, not BatchNorm2d, so inference folding can put an Identity in its place.
    private readonly nn.Module<Tensor, Tensor> bn1;
    private readonly ReLU relu;
    private readonly nn.Module<Tensor, Tensor> maxpool;
    private readonly Sequential layer1;
    private readonly Sequential layer2;
    private readonly Sequential layer3;
    private readonly Sequential layer4;
    private readonly AdaptiveAvgPool2d avgpool;
    private Linear fc;

    public ResNet(ResNetConfig config, int numClasses = 1000, string name = "resnet", bool zeroInitResidual = false,
                  int groups = 1, int widthPerGroup = 64, bool cifarStem = false)
        : base(name, cifarStem ? new InputSpec(3, 32, 32, 8, 8) : new InputSpec(3, 224, 224, 32, 32), numClasses,
               classes => new ResNet(config, classes, name, zeroInitResidual, groups, widthPerGroup, cifarStem))
    {
        if (config.Layers.Count != 4 || config.Layers.Any(n => n < 1))
            throw new InvalidChoiceException($"a ResNet has four stages of at least one block each; found [{string.Join(", ", config.Layers)}]");
        Config = config;
        CifarStem = cifarStem;
        conv1 = cifarStem
            ? nn.Conv2d(3, 64, 3, stride: 1, padding: 1, bias: false)
            : nn.Conv2d(3, 64, 7, stride: 2, padding: 3, bias: false);
        bn1 = nn.BatchNorm2d(64);
        relu = nn.ReLU(inplace: true);
        maxpool = cifarStem ? nn.Identity() : nn.MaxPool2d(3, stride: 2, padding: 1);
        long channels = 64;
        Sequential Stage(long planes, int blocks, long stride)
        {
            var stage = new List<nn.Module<Tensor, Tensor>>();
            for (int i = 0; i < blocks; i++)
            {
                stage.Add(config.Block.Create(channels, planes, i == 0 ? stride : 1, groups, widthPerGroup));
                channels = planes * config.Block.Expansion;
            }
            return nn.Sequential(stage);
        }
        layer1 = Stage(64, config.Layers[0], 1);
        layer2 = Stage(128, config.Layers[1], 2);
        layer3 = Stage(256, config.Layers[2], 2);
        layer4 = Stage(512, config.Layers[3], 2);
        avgpool = nn.AdaptiveAvgPool2d(1);
        fc = nn.Linear(channels, numClasses);
        NumFeatures = channels;
        RegisterComponents();
        Init.HeNormal(this, linearStd: null);
        if (zeroInitResidual)
        {
            foreach (var block in modules().OfType<IResidualBlock>()) block.ZeroInitResidual();
        }
    }

    public ResNetConfig Config { get; }
    public bool CifarStem { get; }
    public override long NumFeatures { get; }
    public override string ClassifierName => "fc";
    public override string FirstConvName => "conv1";

    public override Tensor ForwardFeatures(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = maxpool.call(relu.call(bn1.call(conv1.call(x))));   // N x 64 x H/4 x W/4
        y = layer1.call(y);
        y = layer2.call(y);
        y = layer3.call(y);
        return layer4.call(y).MoveToOuterDisposeScope();          // N x 512*expansion x H/32 x W/32
    }

    public override Tensor ForwardHead(Tensor features)
    {
        using var scope = NewDisposeScope();
        return fc.call(avgpool.call(features).flatten(1)).MoveToOuterDisposeScope();
    }

    protected override void ReplaceClassifier(int numClasses)
    {
        fc = nn.Linear(NumFeatures, numClasses);
        ReplaceTail(("fc", fc));
    }
}
