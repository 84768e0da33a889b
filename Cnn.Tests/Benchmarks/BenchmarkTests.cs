using Cnn.Tests.Support;
using Cnn.Training.Benchmarks;
using Cnn.Tests.Cli;
using Cnn.Zoo.Inference;
using Cnn.Zoo;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Tests.Benchmarks;

/// <summary>The benchmark's parts that decide what its figures mean; no test here asserts a time.</summary>
[TestClass]
public sealed class BenchmarkTests
{
    [TestMethod]
    [DataRow("resnet18")]
    [DataRow("mobilenet_v2")]
    [DataRow("googlenet")]
    public void TheReferenceGetsTheZoosWeightsAndGivesItsOutputs(string name)
    {
        using var zoo = ModelRegistry.Create(name, 10);
        DeterministicWeights.Apply(zoo);
        using var reference = ReferenceModels.Create(name, 10)!;
        var missing = ReferenceModels.CopyWeights(zoo, reference);
        // TorchSharp's GoogLeNet always carries the auxiliary heads; they are not used in eval mode.
        Assert.IsTrue(missing.All(k => k.StartsWith("aux", StringComparison.Ordinal)), "not copied: " + string.Join(", ", missing.Take(5)));
        zoo.eval();
        reference.eval();
        using var _ = no_grad();
        using var x = DeterministicWeights.Input(2, 3, 64, 64);
        using var expected = zoo.call(x);
        using var actual = reference.call(x);
        double scale = expected.abs().max().item<float>();
        Assert.IsTrue((actual - expected).abs().max().item<float>() <= 1e-4 * scale, $"{name}: the port computes something else");
    }

    [TestMethod]
    public void InterleavedTimingReportsAMedianPerCase()
    {
        int a = 0, b = 0;
        var rates = Interleaved.ImagesPerSecond([new TimedCase("a", () => a++, 4), new TimedCase("b", () => b++, 8)], 1, 3, 0);
        Assert.AreEqual(4, a, "one warm-up run and three samples of one run each");
        Assert.AreEqual(4, b);
        Assert.IsTrue(rates["a"] > 0 && rates["b"] > 0);
        Assert.AreEqual(2.0, Interleaved.Median([3.0, 1.0, 2.0]));
        Assert.AreEqual(2.5, Interleaved.Median([4.0, 1.0, 2.0, 3.0]));
    }

    [TestMethod]
    public void AnUnknownModelNamesTheChoices()
    {
        var error = Assert.ThrowsExactly<InvalidChoiceException>(() => BenchModel.Parse("resnet51"));
        StringAssert.Contains(error.Message, "resnet18_cifar");
        StringAssert.Contains(error.Message, "resnet50");
        Assert.AreEqual("resnet18", BenchModel.Parse("resnet18_cifar").Name);
    }

    /// <summary>Runs the bench verb on LeNet-5's inference only, as fast as it goes, in <paramref name="root"/>; returns the run folder.</summary>
    static string Bench(TempFolder root, params string[] extra)
    {
        var (code, output, error) = CliRunner.Run(["bench", "--models", "lenet5", "--skip", "training,loader,memory", "--repeats", "1",
                                                   "--warmup", "0", "--sample-seconds", "0", "--out", root.Path, .. extra]);
        Assert.AreEqual(0, code, output + error);
        return Directory.GetDirectories(root.Path).Single();
    }

    /// <summary>RFC 4180 fields of one CSV line: commas split, double quotes enclose, a doubled quote is a quote.</summary>
    static List<string> CsvFields(string line)
    {
        var fields = new List<string>();
        var field = new System.Text.StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted && c == '"' && i + 1 < line.Length && line[i + 1] == '"') { field.Append('"'); i++; }
            else if (c == '"') quoted = !quoted;
            else if (c == ',' && !quoted) { fields.Add(field.ToString()); field.Clear(); }
            else field.Append(c);
        }
        fields.Add(field.ToString());
        return fields;
    }

    [TestMethod]
    public void TheBenchVerbsCsvAndJsonHoldTheSameRows()
    {
        using var temp = new TempFolder("bench");
        string run = Bench(temp, "--precision", "bf16");

        // Two writers, two formats: a quoting or column-order slip in either shows up as a mismatch.
        var csv = File.ReadAllLines(Path.Combine(run, "bench.csv")).Select(CsvFields).ToList();
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "bench.json")));
        var rows = json.RootElement.GetProperty("rows").EnumerateArray().ToList();
        Assert.AreEqual(rows.Count, csv.Count - 1, "one CSV line per JSON row, after the header");
        var header = csv[0];
        for (int r = 0; r < rows.Count; r++)
        {
            Assert.AreEqual(header.Count, csv[r + 1].Count, $"line {r + 2} has as many fields as the header");
            foreach (var property in rows[r].EnumerateObject())
            {
                int column = header.IndexOf(property.Name);
                Assert.IsTrue(column >= 0, $"the CSV has no column '{property.Name}'");
                string cell = csv[r + 1][column];
                switch (property.Value.ValueKind)
                {
                    case System.Text.Json.JsonValueKind.Number:
                        Assert.AreEqual(property.Value.GetDouble(), double.Parse(cell, System.Globalization.CultureInfo.InvariantCulture),
                                        1e-5 * Math.Abs(property.Value.GetDouble()), $"row {r} {property.Name}");
                        break;
                    case System.Text.Json.JsonValueKind.Null:
                        Assert.AreEqual("", cell, $"row {r} {property.Name}");
                        break;
                    default:
                        Assert.AreEqual(property.Value.GetString(), cell, $"row {r} {property.Name}");
                        break;
                }
            }
        }
        Assert.IsTrue(rows.Any(r => r.GetProperty("variant").GetString()!.Contains("bf16")), "--precision bf16 adds a bf16 row");
        Assert.IsTrue(rows.Any(r => r.GetProperty("note").GetString()!.Contains(',')), "a note with a comma survives the CSV quoting");
        var machine = json.RootElement.GetProperty("machine");
        Assert.AreEqual(8, machine.GetProperty("batch").GetInt32());
        Assert.AreEqual(CpuCapabilities.Current.NativeBFloat16, machine.GetProperty("native_bf16").GetBoolean());
    }

    [TestMethod]
    public void Fp32PrecisionLeavesTheBf16RowOut()
    {
        using var temp = new TempFolder("bench");
        string run = Bench(temp, "--precision", "fp32");
        var variants = File.ReadAllLines(Path.Combine(run, "bench.csv")).Skip(1).Select(l => CsvFields(l)[2]).ToList();
        Assert.IsTrue(variants.Any(v => v.StartsWith("zoo optimized", StringComparison.Ordinal)), string.Join("\n", variants));
        Assert.IsFalse(variants.Any(v => v.Contains("bf16")), string.Join("\n", variants));
    }
}
