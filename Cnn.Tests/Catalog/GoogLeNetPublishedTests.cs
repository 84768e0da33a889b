using System.Security.Cryptography;
using System.Text.Json;
using Cnn.Tests.Support;
using Cnn.Transfer;
using Cnn.Transfer.Catalog;
using Cnn.Zoo;
using Cnn.Zoo.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Tests.Catalog;

/// <summary>
/// torchvision's published GoogLeNet file holds the auxiliary heads and was trained with transform_input=True.
/// The fixture (tools/catalog/make_googlenet_fixture.py) ran torchvision's own googlenet(weights=IMAGENET1K_V1) on a
/// stand-in file of deterministic weights; here the same file goes through the catalog into a zoo googlenet built
/// without aux heads.
/// </summary>
[TestClass]
public sealed class GoogLeNetPublishedTests
{
    sealed record Fixture(int FileKeys, string[] DroppedKeys, bool TransformInput, long[] InputShape, float[] Output, double OutputMaxAbs);

    static Fixture Load()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("catalog", "googlenet_published.json")));
        var root = doc.RootElement;
        return new Fixture(
            root.GetProperty("file_keys").GetInt32(),
            root.GetProperty("dropped_keys").EnumerateArray().Select(e => e.GetString()!).ToArray(),
            root.GetProperty("transform_input").GetBoolean(),
            root.GetProperty("input_shape").EnumerateArray().Select(e => e.GetInt64()).ToArray(),
            root.GetProperty("output").EnumerateArray().Select(e => (float)e.GetDouble()).ToArray(),
            root.GetProperty("output_max_abs").GetDouble());
    }

    static string folder = null!;
    static string filePath = null!;

    /// <summary>The stand-in for googlenet-1378be20.pth: googlenet(aux_logits=True) with the deterministic weights,
    /// saved as PyTorch saves a state dict, under the name its hash gives it.</summary>
    [ClassInitialize]
    public static void WriteStandInFile(TestContext _)
    {
        folder = new TempFolder("googlenet-published").Path;
        using var withAux = ModelRegistry.Create("googlenet", 1000, ModelOptions.Parse(["aux_logits=true"]));
        DeterministicWeights.Apply(withAux);
        string saved = Path.Combine(folder, "googlenet.pth");
        Weights.Save(withAux, saved);
        string hash = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(saved)));
        string checkpoints = Path.Combine(folder, "checkpoints");
        Directory.CreateDirectory(checkpoints);
        filePath = Path.Combine(checkpoints, $"googlenet-{hash[..8]}.pth");
        File.Move(saved, filePath);
    }

    [ClassCleanup]
    public static void DeleteFolder() => Directory.Delete(folder, recursive: true);

    /// <summary>Eval-mode output, computed in float64: libtorch 2.10's float32 CPU convolution gives wrong results for
    /// some shapes on some CPUs (24 -> 64 channels, 3x3, batch 2 on an AVX-512 EPYC: errors of 20% of the output),
    /// and GoogLeNet's inception4b/4c have that shape. The reference is float32, far more exact than the tolerance.</summary>
    static double[] Eval(ZooModel model, long[] shape)
    {
        model.eval();
        model.to(ScalarType.Float64);
        using var _ = no_grad();
        using var x = DeterministicWeights.Input(shape);
        using var x64 = x.to_type(ScalarType.Float64);
        using var y = model.call(x64);
        return y.data<double>().ToArray();
    }

    [TestMethod]
    public void PublishedFile_LoadsLikeTorchVisionsBuilder()
    {
        var fixture = Load();
        // The real catalog entry (its options and preprocessing), with the stand-in file already in the cache.
        var entry = WeightsCatalog.Default.Get("googlenet", "IMAGENET1K_V1") with
        {
            Source = new PublishedFile("https://download.invalid/models/" + Path.GetFileName(filePath)),
        };
        var cache = new WeightsCache(Path.GetDirectoryName(filePath)!, Path.Combine(folder, "converted"));
        using var pretrained = new WeightsCatalog([entry]).Create("googlenet", cache: cache, log: _ => { });

        var googlenet = (GoogLeNet)pretrained.Model;
        Assert.AreEqual(fixture.TransformInput, googlenet.TransformInput);
        Assert.IsFalse(googlenet.HasAuxiliary);
        var report = pretrained.Report;
        Assert.IsTrue(report.IsExact, report.ToString());
        CollectionAssert.AreEquivalent(fixture.DroppedKeys, report.Skipped.ToArray(), "the aux keys are skipped and reported");
        Assert.AreEqual(fixture.FileKeys, report.Loaded.Count + report.Skipped.Count);
        StringAssert.Contains(report.ToString(), "skipped (20): aux1.");

        double[] output = Eval(pretrained.Model, fixture.InputShape);
        Assert.HasCount(fixture.Output.Length, output);
        double worst = output.Zip(fixture.Output, (a, e) => Math.Abs(a - e)).Max();
        double tolerance = 1e-4 * fixture.OutputMaxAbs;
        Assert.IsLessThanOrEqualTo(tolerance, worst, $"max |ours - torchvision| = {worst:G3}");

        // The same weights without the input transform are far from torchvision's: the transform is what matches.
        using var plain = ModelRegistry.Create("googlenet");
        Weights.Load(plain, filePath);
        double gap = Eval(plain, fixture.InputShape).Zip(fixture.Output, (a, e) => Math.Abs(a - e)).Max();
        Assert.IsGreaterThan(100 * tolerance, gap);
    }

    [TestMethod]
    public void AnyGoogLeNetFileWithAuxHeads_LoadsIntoAModelWithout()
    {
        using var withoutAux = ModelRegistry.Create("googlenet");
        var report = Weights.Load(withoutAux, filePath);
        Assert.IsTrue(report.IsExact, report.ToString());
        Assert.IsTrue(report.Skipped.All(k => k.StartsWith("aux1.", StringComparison.Ordinal) || k.StartsWith("aux2.", StringComparison.Ordinal)));
        Assert.HasCount(20, report.Skipped);

        using var withAux = ModelRegistry.Create("googlenet", 1000, ModelOptions.Parse(["aux_logits=true"]));
        var exact = Weights.Load(withAux, filePath);
        Assert.IsTrue(exact.IsExact);
        Assert.IsEmpty(exact.Skipped, "a model with aux heads loads them");
    }
}
