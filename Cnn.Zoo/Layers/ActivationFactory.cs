using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Zoo.Layers;

public static class ActivationFactory
{
    /// <summary>A fresh module for <paramref name="activation"/>; <see cref="Activation.None"/> gives an identity.</summary>
    public static nn.Module<Tensor, Tensor> Create(Activation activation) => activation switch
    {
        Activation.None => nn.Identity(),
        Activation.ReLU => nn.ReLU(inplace: true),
        Activation.ReLU6 => nn.ReLU6(inplace: true),
        Activation.Tanh => nn.Tanh(),
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "unknown activation"),
    };
}
