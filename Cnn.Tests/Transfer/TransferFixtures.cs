using System.Text.Json;
using Cnn.Zoo.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Tests.Transfer;

/// <summary>
/// Fixtures of tools/reference/make_transfer_fixtures.py and the deterministic weights it uses, reimplemented
/// bit-exactly: the uint32 hash gives u in [-1, 1) exactly in float64; weights are u * sqrt(6 / fan_in), biases
/// 0.05 * u, computed in float64 and rounded once to float32, as numpy does.
/// </summary>
internal static class TransferFixtures
{
    public const int FixtureSalt = 0;
    public const int RoundTripSalt = 1000;
    const long InputK = 1000000;
    public static readonly long[] InputShape = [2, 1, 32, 32];

    public static string PathOf(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "transfer", name);

    public static double[] HashUniform(long k, long n)
    {
        uint c0 = unchecked((uint)k * 0x9E3779B1u + 0x165667B1u);
        var u = new double[n];
        for (long i = 0; i < n; i++)
        {
            uint x = unchecked((uint)i * 0x85EBCA77u + c0);
            x ^= x >> 15;
            x = unchecked(x * 0x2C1B3C6Du);
            x ^= x >> 12;
            x = unchecked(x * 0x297A2D39u);
            x ^= x >> 15;
            x >>= 8;
            u[i] = x * (1.0 / 8388608.0) - 1.0;
        }
        return u;
    }

    public static Tensor DeterministicTensor(long k, string key, long[] shape)
    {
        long n = shape.Aggregate(1L, (a, b) => a * b);
        var u = HashUniform(k, n);
        var values = new float[n];
        if (shape.Length >= 2)
        {
            double scale = Math.Sqrt(6.0 / (n / shape[0]));
            for (long i = 0; i < n; i++) values[i] = (float)(u[i] * scale);
        }
        else if (key.EndsWith("bias", StringComparison.Ordinal))
        {
            for (long i = 0; i < n; i++) values[i] = (float)(0.05 * u[i]);
        }
        else
        {
            throw new ArgumentException($"no rule for {key}");
        }
        return tensor(values, shape);
    }

    /// <summary>LeNet-5 (10 classes) whose state-dict tensor number k is DeterministicTensor(salt + k), in eval mode.</summary>
    public static LeNet5 DeterministicLeNet(int salt)
    {
        var model = new LeNet5();
        using (no_grad())
        {
            int k = 0;
            foreach (var (key, value) in model.state_dict())
            {
                using var v = DeterministicTensor(salt + k++, key, value.shape);
                value.copy_(v);
            }
        }
        model.eval();
        return model;
    }

    public static Dictionary<string, Tensor> DeterministicLeNetState(int salt)
    {
        var shapes = new LeNet5().state_dict().Select(kv => (kv.Key, kv.Value.shape)).ToList();
        return shapes.Select((s, k) => (s.Key, DeterministicTensor(salt + k, s.Key, s.shape)))
                     .ToDictionary(x => x.Key, x => x.Item2);
    }

    public static Tensor DeterministicInput()
    {
        var u = HashUniform(InputK, InputShape.Aggregate(1L, (a, b) => a * b));
        return tensor(u.Select(v => (float)v).ToArray(), InputShape);
    }

    public static Tensor Logits(nn.Module<Tensor, Tensor> model, Tensor input)
    {
        using var _ = no_grad();
        return model.call(input);
    }

    /// <summary>lenet5_expected.json: the input and PyTorch's logits.</summary>
    public static (float[] Input, float[] Logits, string[] Keys) Expected()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(PathOf("lenet5_expected.json")));
        var root = document.RootElement;
        float[] Floats(string name) => root.GetProperty(name).EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();
        var keys = root.GetProperty("keys").EnumerateArray().Select(e => e.GetString()!).ToArray();
        return (Floats("input"), Floats("logits"), keys);
    }

    /// <summary>Detached copies of every parameter and buffer.</summary>
    public static Dictionary<string, Tensor> Snapshot(nn.Module model)
        => model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());

    /// <summary>Names of the state tensors that differ (torch.equal) from the snapshot.</summary>
    public static List<string> Changed(nn.Module model, Dictionary<string, Tensor> snapshot)
        => model.state_dict().Where(kv => !BitEqual(kv.Value, snapshot[kv.Key])).Select(kv => kv.Key).ToList();

    /// <summary>torch.equal, stricter: same dtype, same shape, same bytes (so -0 differs from +0, as bit-identical means).</summary>
    public static bool BitEqual(Tensor a, Tensor b)
    {
        if (a.dtype != b.dtype || !a.shape.SequenceEqual(b.shape)) return false;
        using var scope = NewDisposeScope();
        // Fresh dense copies: views (a row of a matrix) have a storage offset that .bytes would not honour.
        return a.detach().contiguous().clone().bytes.SequenceEqual(b.detach().contiguous().clone().bytes);
    }

    public static float MaxAbsDiff(Tensor a, Tensor b)
    {
        using var d = (a.to(float32) - b.to(float32)).abs().max();
        return d.item<float>();
    }

    /// <summary>A temporary directory removed when disposed.</summary>
    public sealed class TempDirectory : IDisposable
    {
        public TempDirectory() => Directory.CreateDirectory(Path);
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "cnn-transfer-" + Guid.NewGuid().ToString("N"));
        public string File(string name) => System.IO.Path.Combine(Path, name);
        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
