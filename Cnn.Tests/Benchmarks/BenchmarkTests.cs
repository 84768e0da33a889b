using Cnn.Tests.Support;
using Cnn.Training.Benchmarks;
using Cnn.Training.Cli;
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
        var error = Assert.ThrowsExactly<ArgumentException>(() => BenchModel.Parse("resnet51"));
        StringAssert.Contains(error.Message, "resnet18_cifar");
        StringAssert.Contains(error.Message, "resnet50");
        Assert.AreEqual("resnet18", BenchModel.Parse("resnet18_cifar").Name);
    }

    [TestMethod]
    public void TheBenchVerbWritesItsTableAsCsvAndJson()
    {
        using var temp = new TempFolder("bench");
        string root = temp.Path;
        var previous = Console.Out;
        using var output = new StringWriter();
        Console.SetOut(output);
        int code;
        try
        {
            code = Commands.Run(["bench", "--models", "lenet5", "--skip", "training,loader,memory", "--repeats", "1",
                                 "--warmup", "0", "--sample-seconds", "0", "--out", root]);
        }
        finally { Console.SetOut(previous); }
        Assert.AreEqual(0, code, output.ToString());
        string run = Directory.GetDirectories(root).Single();
        var csv = File.ReadAllLines(Path.Combine(run, "bench.csv"));
        Assert.AreEqual("section,model,variant,batch,value,ratio,gflops_per_s,fraction_of_matmul,note", csv[0]);
        Assert.IsTrue(csv.Any(l => l.StartsWith("inference,lenet5,zoo plain,8,", StringComparison.Ordinal)), string.Join("\n", csv));
        Assert.IsTrue(csv.Any(l => l.StartsWith("ceiling,", StringComparison.Ordinal)));
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "bench.json")));
        Assert.AreEqual(8, json.RootElement.GetProperty("machine").GetProperty("batch").GetInt32());
        Assert.IsTrue(json.RootElement.GetProperty("rows").GetArrayLength() >= 4);
    }
}
