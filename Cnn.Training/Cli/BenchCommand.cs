using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Cnn.Training.Benchmarks;
using Cnn.Training.Reporting;
using Cnn.Training.Training;
using Cnn.Zoo.IO;
using TorchSharp;

namespace Cnn.Training.Cli;

public static partial class Commands
{
    static int Bench(Args a)
    {
        string models = a.String("models", string.Join(',', BenchModel.Defaults.Select(m => m.Label)),
                                 "comma-separated models (registry names, or resnet18_cifar)")!;
        int batch = a.Int("batch", 8, "images per batch for inference and training", 1);
        int threads = a.Int("threads", Environment.ProcessorCount, "libtorch CPU threads (and loader workers)", 1);
        int repeats = a.Int("repeats", 5, "timed samples per case; the median is reported", 1);
        int warmup = a.Int("warmup", 2, "untimed runs of each case first", 0);
        double seconds = a.Double("sample-seconds", 1.0, "each timed sample lasts about this long", 0);
        int steps = a.Int("memory-steps", 2000, "training steps of the memory run (RSS after 100 and after these)", 101);
        var skip = a.String("skip", "", "sections to leave out: training, loader, memory (comma-separated)")!
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string runs = a.String("out", "runs", "folder that receives the run folder")!;
        if (a.Help) { Console.WriteLine(a.Usage("bench [--models resnet50,mobilenet_v2] [--batch 8] [--threads 2]")); return 0; }
        a.EnsureNoUnknown();
        var unknown = skip.Except(["training", "loader", "memory"]).ToList();
        if (unknown.Count > 0) throw new UsageException($"--skip: expected training, loader or memory; found '{string.Join(", ", unknown)}'");

        torch.set_num_threads(threads);
        torch.manual_seed(0);
        var settings = new BenchSettings(models.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                                               .Select(BenchModel.Parse).ToList(),
                                         batch, threads, repeats, warmup, seconds, steps,
                                         !skip.Contains("training"), !skip.Contains("loader"), !skip.Contains("memory"));
        var run = RunFolder.Create(runs, "bench");
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
        };
        Console.WriteLine($"Benchmark on {machine["cpu"]}, {threads} threads, batch {batch}, median of {repeats} interleaved samples");
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
        Console.WriteLine($"\nWrote {run.File("bench.csv")} and bench.json");
        return 0;
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
