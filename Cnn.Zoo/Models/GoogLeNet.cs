using Cnn.Zoo.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cnn.Zoo.Models;

/// <summary>GoogLeNet's auxiliary classifier: 4x4 average pool, 1x1 conv to 128, FC 1024, dropout 0.7, FC classes.</summary>
public sealed class InceptionAux : nn.Module<Tensor, Tensor>
{
    private readonly BasicConv2d conv;
    private readonly Linear fc1;
    private readonly Linear fc2;
    private readonly Dropout dropout;

    public InceptionAux(long inChannels, int numClasses) : base(nameof(InceptionAux))
    {
        conv = new BasicConv2d(inChannels, 128, 1);
        fc1 = nn.Linear(2048, 1024);
        fc2 = nn.Linear(1024, numClasses);
        dropout = nn.Dropout(0.7);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = conv.call(nn.functional.adaptive_avg_pool2d(x, 4)).flatten(1);   // N x 2048
        y = dropout.call(nn.functional.relu(fc1.call(y), inplace: true));
        return fc2.call(y).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// GoogLeNet / Inception v1 (Szegedy et al., "Going Deeper with Convolutions", 2014): a stem, nine Inception blocks
/// (outputs 256, 480, 512, 512, 512, 528, 832, 832, 1024 channels) with max-pools between groups, global average
/// pooling and one linear layer. Two auxiliary classifiers (after 4a and 4d) add their loss in training only.
/// Keys, batch norm and the 3x3 "5x5" branch follow torchvision's <c>googlenet</c>.
/// </summary>
public sealed class GoogLeNet : ZooModel, IAuxiliaryClassifiers
{
    public static readonly IReadOnlyList<(string Name, int InChannels, InceptionWidths Widths)> Blocks =
    [
        ("inception3a", 192, new(64, 96, 128, 16, 32, 32)),
        ("inception3b", 256, new(128, 128, 192, 32, 96, 64)),
        ("inception4a", 480, new(192, 96, 208, 16, 48, 64)),
        ("inception4b", 512, new(160, 112, 224, 24, 64, 64)),
        ("inception4c", 512, new(128, 128, 256, 24, 64, 64)),
        ("inception4d", 512, new(112, 144, 288, 32, 64, 64)),
        ("inception4e", 528, new(256, 160, 320, 32, 128, 128)),
        ("inception5a", 832, new(256, 160, 320, 32, 128, 128)),
        ("inception5b", 832, new(384, 192, 384, 48, 128, 128)),
    ];

    // Field order and names are torchvision's, so the state-dict keys are too.
    private readonly BasicConv2d conv1;
    private readonly MaxPool2d maxpool1;
    private readonly BasicConv2d conv2;
    private readonly BasicConv2d conv3;
    private readonly MaxPool2d maxpool2;
    private readonly InceptionBlock inception3a;
    private readonly InceptionBlock inception3b;
    private readonly MaxPool2d maxpool3;
    private readonly InceptionBlock inception4a;
    private readonly InceptionBlock inception4b;
    private readonly InceptionBlock inception4c;
    private readonly InceptionBlock inception4d;
    private readonly InceptionBlock inception4e;
    private readonly MaxPool2d maxpool4;
    private readonly InceptionBlock inception5a;
    private readonly InceptionBlock inception5b;
    private InceptionAux? aux1;
    private InceptionAux? aux2;
    private readonly AdaptiveAvgPool2d avgpool;
    private readonly Dropout dropout;
    private Linear fc;

    /// <summary><paramref name="auxLogits"/> builds the two auxiliary classifiers (keys <c>aux1</c>/<c>aux2</c>);
    /// <paramref name="transformInput"/> maps ImageNet-normalised input to the (x - 0.5) / 0.5 range torchvision's
    /// pretrained GoogLeNet was trained on.</summary>
    public GoogLeNet(int numClasses = 1000, bool auxLogits = false, bool transformInput = false, double dropout = 0.2)
        : base("googlenet", new InputSpec(3, 224, 224, 32, 32), numClasses, classes => new GoogLeNet(classes, auxLogits, transformInput, dropout))
    {
        TransformInput = transformInput;
        InceptionBlock Block(int i) => new(Blocks[i].InChannels, Blocks[i].Widths);
        conv1 = new BasicConv2d(3, 64, 7, stride: 2, padding: 3);
        maxpool1 = nn.MaxPool2d(3, stride: 2, ceil_mode: true);
        conv2 = new BasicConv2d(64, 64, 1);
        conv3 = new BasicConv2d(64, 192, 3, padding: 1);
        maxpool2 = nn.MaxPool2d(3, stride: 2, ceil_mode: true);
        inception3a = Block(0);
        inception3b = Block(1);
        maxpool3 = nn.MaxPool2d(3, stride: 2, ceil_mode: true);
        inception4a = Block(2);
        inception4b = Block(3);
        inception4c = Block(4);
        inception4d = Block(5);
        inception4e = Block(6);
        maxpool4 = nn.MaxPool2d(2, stride: 2, ceil_mode: true);
        inception5a = Block(7);
        inception5b = Block(8);
        aux1 = auxLogits ? new InceptionAux(512, numClasses) : null;
        aux2 = auxLogits ? new InceptionAux(528, numClasses) : null;
        avgpool = nn.AdaptiveAvgPool2d(1);
        this.dropout = nn.Dropout(dropout);
        fc = nn.Linear(1024, numClasses);
        RegisterComponents();
        InitWeights();
    }

    public bool TransformInput { get; }
    public bool HasAuxiliary => aux1 is not null;
    public IReadOnlyList<string> AuxiliaryNames => ["aux1", "aux2"];
    public double AuxiliaryWeight => 0.3;
    public override long NumFeatures => 1024;
    public override string ClassifierName => "fc";
    public override string FirstConvName => "conv1.conv";

    /// <summary>torchvision's init: N(0, 0.01) truncated at +-2 for convolutions and linear layers. The cut lies 200
    /// standard deviations out, so a plain normal is the same distribution (TorchSharp 0.107's trunc_normal_ returns
    /// degenerate values).</summary>
    void InitWeights()
    {
        using var _ = no_grad();
        foreach (var module in modules())
        {
            if (module is Conv2d conv) nn.init.normal_(conv.weight, 0, 0.01);
            else if (module is Linear linear) nn.init.normal_(linear.weight, 0, 0.01);
            else if (module is BatchNorm2d bn)
            {
                nn.init.ones_(bn.weight);
                nn.init.zeros_(bn.bias);
            }
        }
    }

    /// <summary>Undoes the ImageNet normalisation and applies (x - 0.5) / 0.5 instead, channel by channel.</summary>
    Tensor Transform(Tensor x)
    {
        if (!TransformInput) return x.alias();
        using var scope = NewDisposeScope();
        var mean = Preprocessing.ImageNetMean;
        var std = Preprocessing.ImageNetStd;
        var channels = Enumerable.Range(0, 3)
            .Select(c => x[.., c..(c + 1)] * (std[c] / 0.5) + (mean[c] - 0.5) / 0.5)
            .ToArray();
        return torch.cat(channels, 1).MoveToOuterDisposeScope();
    }

    public override Tensor ForwardFeatures(Tensor x) => Body(x, null);

    /// <summary>The body; when <paramref name="auxiliary"/> is given (training), the auxiliary logits are added to it.</summary>
    Tensor Body(Tensor x, List<Tensor>? auxiliary)
    {
        using var scope = NewDisposeScope();
        var y = maxpool1.call(conv1.call(Transform(x)));            // N x 64 x 56 x 56
        y = maxpool2.call(conv3.call(conv2.call(y)));               // N x 192 x 28 x 28
        y = maxpool3.call(inception3b.call(inception3a.call(y)));   // N x 480 x 14 x 14
        y = inception4a.call(y);                                    // N x 512 x 14 x 14
        if (auxiliary is not null && aux1 is not null) auxiliary.Add(aux1.call(y).MoveToOuterDisposeScope());
        y = inception4d.call(inception4c.call(inception4b.call(y)));  // N x 528 x 14 x 14
        if (auxiliary is not null && aux2 is not null) auxiliary.Add(aux2.call(y).MoveToOuterDisposeScope());
        y = maxpool4.call(inception4e.call(y));                     // N x 832 x 7 x 7
        return inception5b.call(inception5a.call(y)).MoveToOuterDisposeScope();   // N x 1024 x 7 x 7
    }

    public override Tensor ForwardHead(Tensor features)
    {
        using var scope = NewDisposeScope();
        return fc.call(dropout.call(avgpool.call(features).flatten(1))).MoveToOuterDisposeScope();
    }

    public (Tensor Logits, Tensor[] Auxiliary) ForwardWithAuxiliary(Tensor x)
    {
        Input.Validate(x, GetName());
        var auxiliary = new List<Tensor>();
        using var scope = NewDisposeScope();
        var features = Body(x, training && HasAuxiliary ? auxiliary : null);
        var logits = ForwardHead(features).MoveToOuterDisposeScope();
        return (logits, auxiliary.Select(a => a.MoveToOuterDisposeScope()).ToArray());
    }

    protected override void ReplaceClassifier(int numClasses)
    {
        // The auxiliary heads predict the same classes, so they are rebuilt too; they sit before the head.
        if (HasAuxiliary)
        {
            aux1 = new InceptionAux(512, numClasses);
            aux2 = new InceptionAux(528, numClasses);
        }
        fc = nn.Linear(1024, numClasses);
        ReplaceTail(("aux1", aux1), ("aux2", aux2), ("avgpool", avgpool), ("dropout", dropout), ("fc", fc));
    }
}
