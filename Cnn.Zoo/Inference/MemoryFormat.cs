using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cnn.Zoo.Inference;

/// <summary>
/// Channels-last (NHWC) layout for 4-D tensors. TorchSharp 0.107 exposes no memory-format argument, but a tensor made
/// by <c>permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)</c> keeps its N x C x H x W shape with NHWC strides,
/// and libtorch's oneDNN convolutions then work on it directly instead of reordering to and from their blocked layout
/// around every layer.
/// </summary>
public static class MemoryFormat
{
    /// <summary>
    /// Whether channels-last is worth it for H x W images. Measured by the bench verb (2 threads, batch 8): at 224 x 224
    /// it speeds up ResNets, MobileNetV2, GoogLeNet and VGG by 15-60% in training and more in inference, but at 32 x 32
    /// the CIFAR-style ResNet-18 trains about 25% slower with it and LeNet-5 gains nothing.
    /// </summary>
    public static bool ChannelsLastPays(long height, long width) => height * width >= 64 * 64;

    /// <summary>Resolves <paramref name="layout"/> for H x W images.</summary>
    public static bool UsesChannelsLast(MemoryLayout layout, long height, long width) => layout switch
    {
        MemoryLayout.ChannelsLast => true,
        MemoryLayout.Auto => ChannelsLastPays(height, width),
        _ => false,
    };

    /// <summary>A 4-D batch in the layout <paramref name="layout"/> asks for (a new tensor, or an alias of it).</summary>
    public static Tensor Arrange(Tensor images, MemoryLayout layout)
        => images.dim() == 4 && UsesChannelsLast(layout, images.shape[2], images.shape[3]) ? ToChannelsLast(images) : images.alias();

    /// <summary>The same values in channels-last strides; tensors that are not 4-D come back unchanged.</summary>
    public static Tensor ToChannelsLast(Tensor x)
    {
        if (x.dim() != 4 || IsChannelsLast(x)) return x.alias();
        using var scope = NewDisposeScope();
        return x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// True for a 4-D tensor laid out as NHWC. Like PyTorch's <c>is_contiguous(channels_last)</c>, dimensions of size 1
    /// are ignored (their stride never matters), so a 1x1 kernel [O, I, 1, 1] can qualify.
    /// </summary>
    public static bool IsChannelsLast(Tensor x)
    {
        if (x.dim() != 4) return false;
        long[] shape = x.shape, stride = x.stride();
        long expected = 1;
        foreach (int dim in new[] { 1, 3, 2, 0 })   // innermost first: C, W, H, N
        {
            if (shape[dim] != 1 && stride[dim] != expected) return false;
            expected *= shape[dim];
        }
        return true;
    }

    /// <summary>
    /// Gives every 2-D convolution of <paramref name="module"/> channels-last weights (same values, same
    /// requires_grad). Returns how many were converted. Call before creating an optimizer: the parameters are new objects.
    /// </summary>
    public static int ConvertConvolutionWeights(nn.Module module)
    {
        int converted = 0;
        foreach (var (_, child) in module.named_modules().Prepend(("", module)))
        {
            if (child is not Conv2d conv || IsChannelsLast(conv.weight!)) continue;
            using var _ = no_grad();
            bool trainable = conv.weight!.requires_grad;
            conv.weight = new Parameter(ToChannelsLast(conv.weight.detach()), requires_grad: trainable);
            converted++;
        }
        return converted;
    }
}
