using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Tests.Support;

/// <summary>
/// The weight formula of tools/reference/deterministic.py (used by both fixture scripts), bit for bit, so tests compare
/// against PyTorch outputs without storing any weights. For tensor number k (state-dict order) and flat element i, a 32-bit integer hash
/// gives u in [-1, 1); the value depends on the tensor's role (see the script's docstring).
/// </summary>
public static class DeterministicWeights
{
    public static double Uniform(uint k, uint i)
    {
        uint x = unchecked(k * 0x9E3779B1u + i * 0x85EBCA77u + 0x165667B1u);
        x ^= x >> 15;
        x = unchecked(x * 0x2C1B3C6Du);
        x ^= x >> 12;
        x = unchecked(x * 0x297A2D39u);
        x ^= x >> 15;
        return (x >> 8) / 8388608.0 - 1.0;
    }

    public static float[] Values(uint k, string key, long[] shape)
    {
        long numel = shape.Aggregate(1L, (a, b) => a * b);
        var values = new float[numel];
        double fanIn = shape.Length >= 2 ? numel / (double)shape[0] : 1;
        // The role decides an offset and a factor once per tensor (not per element: VGG's tensors have 100 M of them);
        // offset + factor * u is bit for bit the script's formula, since 0 + x == x.
        var (offset, factor) = key.EndsWith("running_var", StringComparison.Ordinal) ? (0.75, 0.25)
            : key.EndsWith("running_mean", StringComparison.Ordinal) ? (0.0, 0.1)
            : shape.Length >= 2 ? (0.0, Math.Sqrt(6.0 / fanIn))
            : key.EndsWith("weight", StringComparison.Ordinal) ? (1.0, 0.1)
            : key.EndsWith("bias", StringComparison.Ordinal) ? (0.0, 0.05)
            : throw new ArgumentException($"no rule for {key}");
        const long chunk = 1 << 16;
        Parallel.For(0, (numel + chunk - 1) / chunk, c =>
        {
            for (long i = c * chunk, end = Math.Min(numel, i + chunk); i < end; i++)
                values[i] = (float)(offset + factor * Uniform(k, (uint)i));
        });
        return values;
    }

    /// <summary>Overwrites every parameter and buffer of <paramref name="model"/> with the formula's values; state-dict
    /// tensor number i gets k = <paramref name="salt"/> + i (the transfer fixtures use salts to tell files apart).</summary>
    public static void Apply(nn.Module model, uint salt = 0)
    {
        using var _ = no_grad();
        uint k = salt;
        foreach (var (key, tensor) in model.state_dict())
        {
            if (key.EndsWith("num_batches_tracked", StringComparison.Ordinal)) tensor.zero_();
            else
            {
                using var source = torch.tensor(Values(k, key, tensor.shape), tensor.shape);
                tensor.copy_(source);
            }
            k++;
        }
    }

    /// <summary>The fixtures' input: the same hash with k = 1,000,000.</summary>
    public static Tensor Input(params long[] shape)
    {
        long numel = shape.Aggregate(1L, (a, b) => a * b);
        var values = new float[numel];
        for (long i = 0; i < numel; i++) values[i] = (float)Uniform(1_000_000, (uint)i);
        return torch.tensor(values, shape);
    }
}
