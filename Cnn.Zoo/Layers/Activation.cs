using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Zoo.Layers;

/// <summary>The non-linearities the zoo's blocks use.</summary>
public enum Activation
{
    /// <summary>No non-linearity: a linear projection (MobileNetV2's bottleneck output).</summary>
    None,
    ReLU,
    /// <summary>min(max(x, 0), 6): MobileNet's activation, robust in low-precision arithmetic.</summary>
    ReLU6,
    /// <summary>The squashing function of the original LeNet-5.</summary>
    Tanh,
}

