using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cnn.Zoo.Models;

/// <summary>Weight initialisation as torchvision does it, so training from scratch behaves as it does there.</summary>
public static class Init
{
    /// <summary>
    /// Convolutions: He (Kaiming) normal, fan-out, for ReLU; biases zero. Batch norm: weight 1, bias 0.
    /// Linear layers: N(0, <paramref name="linearStd"/>), bias 0; a null std keeps TorchSharp's default (uniform).
    /// </summary>
    public static void HeNormal(nn.Module model, double? linearStd = 0.01)
    {
        using var _ = no_grad();
        foreach (var (_, module) in model.named_modules())
        {
            switch (module)
            {
                case Conv2d conv:
                    nn.init.kaiming_normal_(conv.weight, mode: nn.init.FanInOut.FanOut, nonlinearity: nn.init.NonlinearityType.ReLU);
                    if (conv.bias is not null) nn.init.zeros_(conv.bias);
                    break;
                case BatchNorm2d bn:
                    nn.init.ones_(bn.weight);
                    nn.init.zeros_(bn.bias);
                    break;
                case Linear linear when linearStd is double std:
                    nn.init.normal_(linear.weight, 0, std);
                    if (linear.bias is not null) nn.init.zeros_(linear.bias);
                    break;
            }
        }
    }

    /// <summary>A linear layer initialised N(0, <paramref name="std"/>) with zero bias: torchvision's classifier init.</summary>
    public static Linear Linear(long inFeatures, long outFeatures, double std = 0.01)
    {
        var linear = nn.Linear(inFeatures, outFeatures);
        using var _ = no_grad();
        nn.init.normal_(linear.weight, 0, std);
        nn.init.zeros_(linear.bias!);
        return linear;
    }
}
