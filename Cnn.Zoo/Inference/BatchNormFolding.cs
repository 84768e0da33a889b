using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cnn.Zoo.Inference;

/// <summary>
/// Folds each inference-mode batch norm into the convolution before it: BN(conv(x)) = conv'(x) with
/// W' = W * gamma / sqrt(var + eps) per output channel and b' = (b - mean) * gamma / sqrt(var + eps) + beta,
/// so one pass over the activations disappears per convolution. The pair is found the way torchvision (and every
/// zoo layer) writes it: a <see cref="BatchNorm2d"/> registered right after the <see cref="Conv2d"/> that feeds it,
/// with as many features as the convolution has output channels. The norm is replaced by an Identity.
/// </summary>
public static class BatchNormFolding
{
    /// <summary>
    /// Folds every conv-BN pair of <paramref name="model"/> in place and returns how many it folded. The model must be
    /// in eval mode: folding bakes in the running statistics, so the result can no longer be trained.
    /// </summary>
    public static int Fold(nn.Module model)
    {
        if (model.training)
            throw new InvalidOperationException("batch norm folding uses the running statistics; call eval() on the model first");
        int folded = 0;
        using (no_grad())
        {
            var result = FoldWithin(model, ref folded);
            if (!ReferenceEquals(result, model))
                throw new InvalidOperationException("the root module is a Sequential; wrap it in a module to fold it");
        }
        return folded;
    }

    private static nn.Module FoldWithin(nn.Module module, ref int folded)
    {
        var children = new List<(string Name, nn.Module Module)>();
        foreach (var (name, child) in module.named_children()) children.Add((name, FoldWithin(child, ref folded)));
        for (int i = 0; i + 1 < children.Count; i++)
        {
            if (children[i].Module is not Conv2d conv || children[i + 1].Module is not BatchNorm2d norm) continue;
            if (norm.running_mean is null || norm.running_var is null || norm.running_mean.shape[0] != conv.weight!.shape[0]) continue;
            FoldInto(conv, norm);
            var identity = nn.Identity();
            identity.eval();
            children[i + 1] = (children[i + 1].Name, identity);
            folded++;
        }
        return ModuleSurgery.WithChildren(module, children);
    }

    private static void FoldInto(Conv2d conv, BatchNorm2d norm)
    {
        var (channels, dtype, device) = (conv.weight!.shape[0], conv.weight.dtype, conv.weight.device);
        var gamma = norm.weight ?? ones(channels, dtype, device);
        var beta = norm.bias ?? zeros(channels, dtype, device);
        var (weight, bias) = nn.utils.fuse_conv_bn_weights(
            conv.weight, conv.bias, norm.running_mean!, norm.running_var!, norm.eps, gamma, beta, transpose: false);
        weight.requires_grad = false;
        bias.requires_grad = false;
        conv.weight = weight;
        conv.bias = bias;
    }
}
