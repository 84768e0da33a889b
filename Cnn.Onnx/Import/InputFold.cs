using Cnn.Zoo;
using static TorchSharp.torch;

namespace Cnn.Onnx.Import;

/// <summary>
/// Moves a network from one input convention to another by rewriting its stem: the first convolution (bias-free,
/// linear) absorbs the channel permutation and scales, and the BatchNorm after it absorbs the constant shift.
/// <para>With input <c>a</c> (old convention) and <c>b</c> (new), each old channel is an affine function of one new
/// channel, <c>a_k = (s_j b_j + m_j - m_k) / s_k</c>, so <c>conv(a) = conv'(b) + c</c> with
/// <c>W'[:, j] = W[:, k] s_j / s_k</c> and <c>c[o] = sum_k sum_hw W[o, k] (m_j - m_k) / s_k</c>. BatchNorm computes
/// <c>(y - running_mean) / sqrt(running_var + eps) * weight + bias</c>, so <c>running_mean' = running_mean - c</c>
/// gives the same output for every pixel whose receptive field lies inside the image.</para>
/// <para>At the border the identity is not exact: zero padding means "pixel = new mean" to the new network and
/// "pixel = old mean" to the old one, so outputs within a kernel radius of the edge differ in proportion to the gap
/// between the two means. When the means agree the fold is exact everywhere.</para>
/// </summary>
public static class InputFold
{
    /// <summary>
    /// Rewrites <c>{conv}.weight</c> and <c>{bn}.running_mean</c> in <paramref name="stateDict"/> (new tensors replace
    /// the old ones, which are disposed) so the network computes for <paramref name="to"/>-inputs what it computed
    /// for <paramref name="from"/>-inputs. Arithmetic in float64.
    /// </summary>
    public static void Retarget(Dictionary<string, Tensor> stateDict, string conv, string bn, InputConvention from, InputConvention to)
    {
        from.Validate();
        to.Validate();
        string weightKey = conv + ".weight", meanKey = bn + ".running_mean";
        if (!stateDict.TryGetValue(weightKey, out var weight) || !stateDict.TryGetValue(meanKey, out var runningMean))
            throw new ArgumentException($"expected '{weightKey}' and '{meanKey}' in the state dict");
        if (stateDict.ContainsKey(conv + ".bias"))
            throw new ArgumentException($"'{conv}' has a bias; the fold expects a bias-free convolution followed by '{bn}'");
        if (weight.dim() != 4 || weight.shape[1] != 3 || runningMean.shape[0] != weight.shape[0])
            throw new ArgumentException($"expected '{weightKey}' of shape [C, 3, k, k] and '{meanKey}' of shape [C]; found [{string.Join(", ", weight.shape)}] and [{string.Join(", ", runningMean.shape)}]");

        using var scope = NewDisposeScope();
        var w = weight.to_type(ScalarType.Float64);
        var newWeight = zeros_like(w);
        var shift = zeros(weight.shape[0], dtype: ScalarType.Float64);
        for (int k = 0; k < 3; k++)
        {
            int rgb = from.ChannelOrder[k];
            int j = IndexOf(to.ChannelOrder, rgb);
            var wk = w.select(1, k);
            newWeight.select(1, j).copy_(wk * (to.Std[j] / from.Std[k]));
            shift.add_(wk.sum([1, 2]) * ((to.Mean[j] - from.Mean[k]) / from.Std[k]));
        }
        var newMean = runningMean.to_type(ScalarType.Float64) - shift;
        stateDict[weightKey] = newWeight.to_type(weight.dtype).MoveToOuterDisposeScope();
        stateDict[meanKey] = newMean.to_type(runningMean.dtype).MoveToOuterDisposeScope();
        weight.Dispose();
        runningMean.Dispose();
    }

    static int IndexOf(IReadOnlyList<int> order, int value)
    {
        for (int i = 0; i < order.Count; i++) if (order[i] == value) return i;
        throw new ArgumentException($"channel {value} missing from [{string.Join(", ", order)}]");
    }
}
