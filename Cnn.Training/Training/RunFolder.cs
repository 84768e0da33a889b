using System.Globalization;
using System.Text;
using System.Text.Json;
using Cnn.Zoo.IO;

namespace Cnn.Training.Training;

/// <summary>
/// One folder per run (<c>runs/20261128-120000-lenet5</c>): the exact command and options, metrics.csv rewritten
/// atomically after each epoch, summary.json, checkpoints and pictures.
/// </summary>
public sealed class RunFolder
{
    readonly List<Dictionary<string, double>> epochs = [];

    public RunFolder(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(Path);
    }

    /// <summary>A new folder under <paramref name="root"/> named by time and model, never reusing an existing one.</summary>
    public static RunFolder Create(string root, string model)
    {
        string stamp = DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        string path = System.IO.Path.Combine(root, $"{stamp}-{model}");
        for (int i = 2; Directory.Exists(path); i++) path = System.IO.Path.Combine(root, $"{stamp}-{model}-{i}");
        return new RunFolder(path);
    }

    public string Path { get; }
    public string LastCheckpoint => File("last.ckpt");
    public string BestCheckpoint => File("best.ckpt");
    public string MetricsCsv => File("metrics.csv");
    public IReadOnlyList<Dictionary<string, double>> Epochs => epochs;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void WriteCommand(IEnumerable<string> args, object options)
    {
        AtomicFile.WriteAllText(File("command.txt"), "cnnzoo " + string.Join(' ', args.Select(Quote)) + "\n");
        AtomicFile.WriteAllText(File("options.json"), JsonSerializer.Serialize(options, JsonOptions));
    }

    static string Quote(string arg) => arg.Contains(' ') ? $"\"{arg}\"" : arg;

    /// <summary>Loads earlier rows (on resume) so the CSV stays whole.</summary>
    public void RestoreMetrics(int upToEpoch)
    {
        epochs.Clear();
        if (!System.IO.File.Exists(MetricsCsv)) return;
        var lines = System.IO.File.ReadAllLines(MetricsCsv);
        if (lines.Length == 0) return;
        var header = lines[0].Split(',');
        foreach (var line in lines.Skip(1))
        {
            var cells = line.Split(',');
            var row = header.Zip(cells).ToDictionary(p => p.First, p => double.Parse(p.Second, CultureInfo.InvariantCulture));
            if (row.TryGetValue("epoch", out double e) && e <= upToEpoch) epochs.Add(row);
        }
    }

    public void AppendEpoch(Dictionary<string, double> row)
    {
        epochs.Add(row);
        var columns = epochs.SelectMany(r => r.Keys).Distinct().ToList();
        var sb = new StringBuilder();
        sb.AppendLine(string.Join(',', columns));
        foreach (var r in epochs)
            sb.AppendLine(string.Join(',', columns.Select(c => r.TryGetValue(c, out double v) ? v.ToString("G9", CultureInfo.InvariantCulture) : "")));
        AtomicFile.WriteAllText(MetricsCsv, sb.ToString());
    }

    public void WriteJson(string name, object value) => AtomicFile.WriteAllText(File(name), JsonSerializer.Serialize(value, JsonOptions));

    public static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };
}
