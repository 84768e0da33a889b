using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Cnn.Training.Benchmarks;
using Cnn.Training.Reporting;
using Cnn.Training.Training;
using Cnn.Zoo.Inference;
using Cnn.Zoo.IO;
using Cnn.Zoo.Models;
using TorchSharp;

namespace Cnn.Training.Cli;

/// <summary><c>cnnzoo bench</c>: the benchmark (inference, training, loader, memory), written as CSV and JSON.</summary>
public static class BenchCommand
{
    public static Command Create(CliSession session)
    {
        var models = CliOptions.Text("--models", string.Join(',', BenchModel.Defaults.Select(m => m.Label)),
                                     "comma-separated models (registry names, or resnet18_cifar)", "list");
        var batch = CliOptions.Int("--batch", 8, "images per batch for inference and training", 1);
        var threadsOption = CliOptions.Int("--threads", Environment.ProcessorCount, "libtorch CPU threads (and loader workers)", 1);
        var repeats = CliOptions.Int("--repeats", 5, "timed samples per case; the median is reported", 1);
        var warmup = CliOptions.Int("--warmup", 2, "untimed runs of each case first", 0);
        var seconds = CliOptions.Double("--sample-seconds", 1.0, "each timed sample lasts about this long", 0);
        var steps = CliOptions.Int("--memory-steps", 2000, "training steps of the memory run (RSS after 100 and after these)", 101);
        var skipOption = CliOptions.Text("--skip", "", "sections to leave out: training, loader, memory (comma-separated)", "list");
        var output = SharedOptions.RunsFolder();
        var precision = PrecisionOption.Create("bf16 row of the inference section: auto measures it where auto would pick bf16 (checked on the benchmark's batch), bf16 for every model, fp32 leaves it out", "auto");
        var command = new Command("bench", "images/s of zoo models vs TorchSharp's TorchVision port, FLOP/s vs matmul, loader speed, memory")
        {
            models, batch, threadsOption, repeats, warmup, seconds, steps, skipOption, output, precision,
        };
        command.SetAction(parse => Run(parse.GetValue(models)!, parse.GetValue(batch), parse.GetValue(threadsOption),
            parse.GetValue(repeats), parse.GetValue(warmup), parse.GetValue(seconds), parse.GetValue(steps),
            parse.GetValue(skipOption)!, parse.GetValue(output)!, PrecisionOption.Value(parse, precision), session));
        return command;
    }

    static int Run(string models, int batch, int threads, int repeats, int warmup, double seconds, int steps, string skipList,
                   string runs, InferencePrecision precision, CliSession session)
    {
        var skip = skipList.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var unknown = skip.Except(["training", "loader", "memory"]).ToList();
        if (unknown.Count > 0) throw new UsageException($"--skip: expected training, loader or memory; found '{string.Join(", ", unknown)}'");

        OneDnnGuard.Ensure();   // before any convolution (TorchVision's port is no zoo model, so nothing else would apply it)
        torch.set_num_threads(threads);
        torch.manual_seed(0);
        var settings = new BenchSettings(models.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                                               .Select(BenchModel.Parse).ToList(),
                                         batch, threads, repeats, warmup, seconds, steps,
                                         !skip.Contains("training"), !skip.Contains("loader"), !skip.Contains("memory"), precision);
        var run = RunFolder.Create(runs, "bench");
        session.RunFolder = run.Path;
        var cpu = CpuCapabilities.Current;
        var machine = new Dictionary<string, object>
        {
            ["date"] = DateTime.Now.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
            ["cpu"] = CpuName(),
            ["logical_cpus"] = Environment.ProcessorCount,
            ["threads"] = threads,
            ["batch"] = batch,
            ["os"] = RuntimeInformation.OSDescription,
            ["dotnet"] = RuntimeInformation.FrameworkDescription,
            ["torchsharp"] = typeof(torch).Assembly.GetName().Version?.ToString() ?? "?",
            ["avx512_bf16"] = cpu.Avx512Bf16,
            ["amx_bf16"] = cpu.AmxBf16,
            ["native_bf16"] = cpu.NativeBFloat16,
            ["cpuid_cache_topology"] = cpu.CacheTopology,
            ["onednn"] = OneDnnGuard.Setting.ToString(),
        };
        var auto = PrecisionChoice.Resolve(InferencePrecision.Auto, cpu, new InputSpec(3, 224, 224, 32, 32));
        Console.WriteLine($"Benchmark on {machine["cpu"]}, {threads} threads, batch {batch}, median of {repeats} interleaved samples");
        Console.WriteLine($"bfloat16: {cpu} ({(cpu.NativeBFloat16 ? "native" : "emulated only")}); bf16 rows: {precision switch
        {
            InferencePrecision.Float32 => "none (--precision fp32)",
            InferencePrecision.BFloat16 => "every model (--precision bf16)",
            _ => auto.Precision == InferencePrecision.BFloat16 ? "models with 64x64 or larger images (--precision auto)"
                                                               : $"none (--precision auto; for 224x224 images {auto.Reason})",
        }}");
        if (OneDnnGuard.Ensure() is { } what) Console.WriteLine($"oneDNN: {what}");
        Console.WriteLine($"Run folder: {run.Path}");
        var runner = new BenchmarkRunner(settings, Console.WriteLine);
        runner.Run();

        Console.WriteLine();
        Console.WriteLine(runner.Table());
        AtomicFile.WriteAllText(run.File("bench.csv"), runner.Csv());
        AtomicFile.WriteAllText(run.File("bench.json"), JsonSerializer.Serialize(
            new { machine, rows = runner.Rows.Select(r => new
            {
                section = r.Section, model = r.Model, variant = r.Variant, batch = r.Batch,
                value = Finite(r.ImagesPerSecond), ratio = Finite(r.Ratio), gflops_per_s = Finite(r.GigaFlopsPerSecond),
                fraction_of_matmul = Finite(r.FractionOfMatmul), note = r.Note,
            }) }, new JsonSerializerOptions { WriteIndented = true }));
        bool charted = runner.Rows.Any(r => r.Section == "inference");
        if (charted)
            Charts.Save(BenchmarkChart.Inference(runner.Rows, $"Inference speed, batch {batch}, {threads} threads, {machine["cpu"]}"),
                        run.File("bench.png"), 980, Charts.BarHeight);
        Console.WriteLine($"\nWrote {run.File("bench.csv")}, bench.json{(charted ? " and bench.png" : "")}");
        return ExitCode.Success;
    }

    static double? Finite(double? value) => value is double v && double.IsFinite(v) ? v : null;

    static string CpuName()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            if (line is not null) return line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }
}
