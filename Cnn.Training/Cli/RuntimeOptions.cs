using System.CommandLine;
using Cnn.Zoo.Inference;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Training.Cli;

/// <summary>The options every verb that runs a model takes: device, threads and seed.</summary>
public sealed class RuntimeOptions
{
    public Option<string> Device { get; } = CliOptions.Text("--device", "cpu", "cpu, cuda or cuda:N (CUDA needs a CUDA build of TorchSharp)", "device");
    public Option<int> Threads { get; } = CliOptions.Int("--threads", 0, "CPU threads for libtorch (0: libtorch's default)", 0);
    public Option<int> Seed { get; } = CliOptions.Int("--seed", 42, "random seed: the same seed gives the same run on the same machine");

    public IEnumerable<Option> All => [Device, Threads, Seed];

    /// <summary>Sets threads and seed; returns the device, or a usage error when it is not available here.</summary>
    public (Device Device, int Seed) Apply(ParseResult parse)
    {
        int threads = parse.GetValue(Threads);
        int seed = parse.GetValue(Seed);
        string device = parse.GetValue(Device)!;
        if (OneDnnGuard.Ensure() is { } what) Console.Error.WriteLine($"note: {what} (CNNZOO_ONEDNN=default|avx|off; see the README's Known problems)");
        if (threads > 0) torch.set_num_threads(threads);
        torch.manual_seed(seed);
        try
        {
            return (torch.device(device), seed);
        }
        catch (Exception e) when (e is not UsageException)
        {
            throw new UsageException($"--device: expected cpu, cuda or cuda:N; '{device}' is not available here ({e.Message})");
        }
    }
}
