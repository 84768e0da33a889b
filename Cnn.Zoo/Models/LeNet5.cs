using Cnn.Zoo.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cnn.Zoo.Models;

/// <summary>Sub-sampling in LeNet-5.</summary>
public enum Pooling
{
    /// <summary>2x2 average ("sub-sampling" in the paper).</summary>
    Average,
    /// <summary>2x2 max, the modern choice.</summary>
    Max,
}

/// <summary>
/// LeNet-5 (LeCun et al., "Gradient-Based Learning Applied to Document Recognition", 1998) on 32x32 grey images:
/// conv 5x5x6 -> 28x28x6, pool -> 14x14x6, conv 5x5x16 -> 10x10x16, pool -> 5x5x16 = 400, FC 120, FC 84, 10.
/// 61,706 parameters. MNIST's 28x28 digits are padded to 32x32 by the data pipeline, as in the paper.
/// <para>Simplifications as in most modern tellings: every C3 map sees all S2 maps, plain tanh/ReLU instead of the
/// scaled tanh, and a linear output layer with softmax instead of RBF units.</para>
/// </summary>
public sealed class LeNet5 : ZooModel
{
    private readonly Sequential features;
    private Sequential classifier;

    public LeNet5(int numClasses = 10, Activation activation = Activation.Tanh, Pooling pooling = Pooling.Average,
                  int inChannels = 1)
        : base("lenet5", new InputSpec(inChannels, 32, 32, 32, 32, FixedSize: true), numClasses,
               classes => new LeNet5(classes, activation, pooling, inChannels))
    {
        Activation = activation;
        Pooling = pooling;
        features = nn.Sequential(
            nn.Conv2d(inChannels, 6, 5), ActivationFactory.Create(activation), Pool(),   // N x 6 x 28 x 28 -> 14 x 14
            nn.Conv2d(6, 16, 5), ActivationFactory.Create(activation), Pool());          // N x 16 x 10 x 10 -> 5 x 5
        classifier = nn.Sequential(
            nn.Linear(16 * 5 * 5, 120), ActivationFactory.Create(activation),
            nn.Linear(120, 84), ActivationFactory.Create(activation),
            nn.Linear(84, numClasses));
        RegisterComponents();
    }

    public Activation Activation { get; }
    public Pooling Pooling { get; }
    public override long NumFeatures => 16;
    public override string ClassifierName => "classifier.4";
    public override string FirstConvName => "features.0";

    nn.Module<Tensor, Tensor> Pool() => Pooling == Pooling.Max ? nn.MaxPool2d(2, 2) : nn.AvgPool2d(2, 2);

    public override Tensor ForwardFeatures(Tensor x) => features.call(x);

    public override Tensor ForwardHead(Tensor features)
    {
        using var flat = features.flatten(1);   // N x 400
        return classifier.call(flat);
    }

    protected override void ReplaceClassifier(int numClasses)
    {
        classifier = WithLastReplaced(classifier, nn.Linear(84, numClasses));
        ReplaceTail(("classifier", classifier));
    }
}
