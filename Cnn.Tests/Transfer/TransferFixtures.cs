using System.Text.Json;
using Cnn.Zoo.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Tests.Transfer;

/// <summary>
/// Fixtures of tools/reference/make_transfer_fixtures.py and the LeNet-5 it fills with the shared deterministic
/// weight formula (<see cref="DeterministicWeights"/>; tools/reference/deterministic.py on the Python side).
/// </summary>
internal static class TransferFixtures
{
    public const int FixtureSalt = 0;
    public const int RoundTripSalt = 1000;
    public static readonly long[] InputShape = [2, 1, 32, 32];

    public static string PathOf(string name) => TestPaths.Fixture("transfer", name);

    /// <summary>State-dict tensor number <paramref name="k"/> by the shared formula.</summary>
    public static Tensor DeterministicTensor(long k, string key, long[] shape)
        => tensor(DeterministicWeights.Values((uint)k, key, shape), shape);

    /// <summary>LeNet-5 (10 classes) whose state-dict tensor number k is DeterministicTensor(salt + k), in eval mode.</summary>
    public static LeNet5 DeterministicLeNet(int salt)
    {
        var model = new LeNet5();
        DeterministicWeights.Apply(model, (uint)salt);
        model.eval();
        return model;
    }

    public static Dictionary<string, Tensor> DeterministicLeNetState(int salt)
    {
        var shapes = new LeNet5().state_dict().Select(kv => (kv.Key, kv.Value.shape)).ToList();
        return shapes.Select((s, k) => (s.Key, DeterministicTensor(salt + k, s.Key, s.shape)))
                     .ToDictionary(x => x.Key, x => x.Item2);
    }

    public static Tensor DeterministicInput() => DeterministicWeights.Input(InputShape);

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
}
