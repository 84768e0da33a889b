using System.Diagnostics;
using Cnn.Onnx.Import;
using Cnn.Zoo.Models;
using static TorchSharp.torch;

namespace Cnn.Tests.Onnx.Import;

/// <summary>
/// resnet18_2223 end to end: conversion, input-convention fold, cache, and agreement with ML.NET's own ONNX pipeline.
/// </summary>
[TestClass]
[TestCategory("Pretrained")]
[TestCategory("Slow")]   // converts the ML.NET ResNet-18 backbone
public sealed class PretrainedBackbonesTests
{
    static string cacheDir = null!;
    static ZooModel converted = null!;
    static readonly List<string> conversionLog = [];

    public TestContext TestContext { get; set; } = null!;

    [ClassInitialize]
    public static void ConvertOnce(TestContext context)
    {
        cacheDir = Path.Combine(Path.GetTempPath(), "cnnzoo-tests-" + Guid.NewGuid().ToString("N"));
        var watch = Stopwatch.StartNew();
        converted = PretrainedBackbones.Create("resnet18_2223", 10, cacheDir, conversionLog.Add);
        conversionLog.Add($"[test] first Create (conversion + cache write): {watch.Elapsed.TotalSeconds:F2} s");
        converted.eval();
    }

    [ClassCleanup]
    public static void Cleanup()
    {
        converted?.Dispose();
        if (Directory.Exists(cacheDir)) Directory.Delete(cacheDir, recursive: true);
    }

    [TestMethod]
    public void Create_ConvertsOnceThenLoadsTheCache()
    {
        foreach (var line in conversionLog) TestContext.WriteLine(line);
        string cache = PretrainedBackbones.CachePath("resnet18_2223", cacheDir);
        Assert.IsTrue(File.Exists(cache), cache);
        Assert.IsEmpty(Directory.GetFiles(cacheDir, "*.tmp"), "the atomic write leaves no temporary file");
        Assert.IsTrue(conversionLog.Any(l => l.Contains("converting", StringComparison.Ordinal)));

        var log = new List<string>();
        var watch = Stopwatch.StartNew();
        using var again = PretrainedBackbones.Create("resnet18_2223", 5, cacheDir, log.Add);
        TestContext.WriteLine($"second Create (cache load): {watch.Elapsed.TotalSeconds:F2} s; {string.Join(" | ", log)}");
        Assert.IsTrue(log.Single().Contains("loaded", StringComparison.Ordinal), string.Join(" | ", log));

        var first = converted.state_dict();
        foreach (var (key, tensor) in again.state_dict())
        {
            if (key.StartsWith("fc.", StringComparison.Ordinal)) continue;
            Assert.IsTrue(tensor.eq(first[key]).all().item<bool>(), key);
        }
        CollectionAssert.AreEqual(new long[] { 5, 512 }, again.state_dict()["fc.weight"].shape);
        Assert.AreEqual(5, again.NumClasses);
        Assert.AreEqual("resnet18", again.GetName(), "built by the registry's resnet18 with layers=2,2,2,3");
    }

    [TestMethod]
    public void Create_CorruptCache_IsConvertedAgain()
    {
        string dir = Path.Combine(cacheDir, "corrupt");
        string cache = PretrainedBackbones.CachePath("resnet18_2223", dir);
        Directory.CreateDirectory(dir);
        File.WriteAllText(cache, "not a safetensors file");
        var log = new List<string>();
        using var model = PretrainedBackbones.Create("resnet18_2223", 3, dir, log.Add);
        TestContext.WriteLine(string.Join("\n", log));
        Assert.IsTrue(log[0].Contains("cannot use cached weights", StringComparison.Ordinal), log[0]);
        Assert.IsGreaterThan(1000L, new FileInfo(cache).Length);
        Assert.IsTrue(model.state_dict()["conv1.weight"].eq(converted.state_dict()["conv1.weight"]).all().item<bool>());
    }

    [TestMethod]
    public void Create_UnwritableCache_StillReturnsTheModel()
    {
        string notADirectory = Path.Combine(cacheDir, "a-file");
        File.WriteAllText(notADirectory, "");
        var log = new List<string>();
        using var model = PretrainedBackbones.Create("resnet18_2223", 2, notADirectory, log.Add);
        TestContext.WriteLine(string.Join("\n", log));
        Assert.IsTrue(log.Any(l => l.Contains("could not write the cache", StringComparison.Ordinal)), string.Join(" | ", log));
        Assert.IsTrue(model.state_dict()["layer4.2.bn2.running_var"].eq(converted.state_dict()["layer4.2.bn2.running_var"]).all().item<bool>());
    }

    /// <summary>
    /// The fold itself is exact when the new convention's mean is the old one's: zero padding then means the same
    /// pixel to both networks. Zoo model on RGB (x/255 - channel means)/std vs ONNX Runtime on BGR - channel means.
    /// </summary>
    [TestMethod]
    public void Retarget_SameMeans_MatchesOnnxRuntimeExactly()
    {
        var meanImage = MlNetPreprocess.Read(OnnxReference.PreprocessPath);
        var source = meanImage.Convention;
        var target = new InputConvention("rgb, channel means, torchvision std", [0, 1, 2],
            [source.Mean[2], source.Mean[1], source.Mean[0]], InputConvention.TorchVision.Std);
        using var weights = OnnxResNetImporter.Import(OnnxReference.Model, "ResNet18.onnx");
        InputFold.Retarget(weights.StateDict, "conv1", "bn1", source, target);
        using var model = new ResNet(weights.Config, 1000);
        model.load_state_dict(weights.StateDict, strict: false);

        double worst = 0;
        foreach (var (name, rgb) in OnnxReference.Images)
        {
            using var zooInput = target.FromRgb255(rgb);
            using var onnxInput = source.FromRgb255(rgb);
            var (maxAbs, scale, cosine) = OnnxReference.Compare(OnnxReference.ZooFeatures(model, zooInput), OnnxReference.Network(onnxInput));
            TestContext.WriteLine($"{name}: max diff {maxAbs:E2}, feature max {scale:F3}, relative {maxAbs / scale:E2}, cosine {cosine:F9}");
            worst = Math.Max(worst, maxAbs / scale);
        }
        Assert.IsLessThan(1e-4, worst, $"relative max difference {worst:E2}");
    }

    /// <summary>
    /// The shipped conversion (torchvision input) against ML.NET's whole pipeline with its per-pixel mean image, and
    /// against the same network fed channel means (the difference left is the border effect of the fold alone).
    /// </summary>
    [TestMethod]
    public void Create_TorchVisionInput_AgreesWithMlNetPipeline()
    {
        var meanImage = MlNetPreprocess.Read(OnnxReference.PreprocessPath);
        TestContext.WriteLine($"mean image channel means B/G/R {string.Join(" / ", meanImage.ChannelMeans.Select(v => v.ToString("F3")))}, "
                              + $"sd {string.Join(" / ", meanImage.ChannelStd.Select(v => v.ToString("F2")))}, "
                              + $"max deviation {string.Join(" / ", meanImage.MaxDeviation.Select(v => v.ToString("F2")))}");
        double worstPipeline = 0, worstChannelMean = 0, lowestCosine = 1;
        foreach (var (name, rgb) in OnnxReference.Images)
        {
            using var x = InputConvention.TorchVision.FromRgb255(rgb);
            var zoo = OnnxReference.ZooFeatures(converted, x);
            var pipeline = OnnxReference.Compare(zoo, OnnxReference.Pipeline(rgb));
            using var channelMeanInput = meanImage.Convention.FromRgb255(rgb);
            var channelMean = OnnxReference.Compare(zoo, OnnxReference.Network(channelMeanInput));
            TestContext.WriteLine($"{name}: vs ML.NET pipeline (mean image): max diff {pipeline.MaxAbs:E2} / feature max {pipeline.Scale:F3} "
                                  + $"= {pipeline.MaxAbs / pipeline.Scale:E2}, cosine {pipeline.Cosine:F6}; "
                                  + $"vs channel-mean input: max diff {channelMean.MaxAbs:E2} = {channelMean.MaxAbs / channelMean.Scale:E2}, cosine {channelMean.Cosine:F6}");
            worstPipeline = Math.Max(worstPipeline, pipeline.MaxAbs / pipeline.Scale);
            worstChannelMean = Math.Max(worstChannelMean, channelMean.MaxAbs / channelMean.Scale);
            lowestCosine = Math.Min(lowestCosine, pipeline.Cosine);
        }
        // Measured: border effect 1.6e-4 to 4.6e-4; mean image vs channel means 1.2e-2 to 4.2e-2, cosine >= 0.9989.
        Assert.IsLessThan(2e-3, worstChannelMean, $"border effect of the fold: {worstChannelMean:E2}");
        Assert.IsLessThan(0.1, worstPipeline, $"mean image vs channel means: {worstPipeline:E2}");
        Assert.IsGreaterThan(0.995, lowestCosine);
    }

    /// <summary>Pretrained features tell images apart, are non-negative (pooled ReLU outputs) and the head is fresh.</summary>
    [TestMethod]
    public void Features_AreDistinctPerImage()
    {
        var features = OnnxReference.Images.Select(image =>
        {
            using var x = InputConvention.TorchVision.FromRgb255(image.Rgb);
            return OnnxReference.ZooFeatures(converted, x);
        }).ToList();
        for (int i = 0; i < features.Count; i++)
        {
            Assert.IsTrue(features[i].All(v => v >= 0), "pooled ReLU outputs are non-negative");
            Assert.IsGreaterThan(50, features[i].Count(v => v > 1e-3), "most channels respond");
            for (int j = i + 1; j < features.Count; j++)
            {
                double cosine = OnnxReference.Compare(features[i], features[j]).Cosine;
                TestContext.WriteLine($"cosine({OnnxReference.Images[i].Name}, {OnnxReference.Images[j].Name}) = {cosine:F3}");
                Assert.IsLessThan(0.95, cosine);
            }
        }
        using var _ = no_grad();
        using var input = InputConvention.TorchVision.FromRgb255(OnnxReference.Images[0].Rgb);
        using var logits = converted.call(input);
        CollectionAssert.AreEqual(new long[] { 1, 10 }, logits.shape);
    }

    [TestMethod]
    public void LocatePackageFile_Missing_SaysWhatToRestoreAndWhereItLooked()
    {
        var entry = OnnxReference.Entry with { PackageId = "No.Such.Package" };
        var error = Assert.Throws<FileNotFoundException>(() => PretrainedBackbones.LocatePackageFile(entry, entry.OnnxFile));
        StringAssert.Contains(error.Message, "dotnet restore");
        StringAssert.Contains(error.Message, Path.Combine("no.such.package", "0.23.1", "tools", "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx"));
    }

    [TestMethod]
    public void Create_UnknownName_ListsKnownBackbones()
    {
        var error = Assert.Throws<ArgumentException>(() => PretrainedBackbones.Create("resnet18", 10, cacheDir));
        StringAssert.Contains(error.Message, "resnet18_2223");
    }
}
