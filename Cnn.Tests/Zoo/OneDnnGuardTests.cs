using Cnn.Tests.Cli;
using Cnn.Tests.Support;
using Cnn.Zoo.Inference;
using static TorchSharp.torch;

namespace Cnn.Tests.Zoo;

/// <summary>
/// The guard caps libtorch's oneDNN exactly where CPUID describes no caches, and convolutions then agree with a
/// float64 reference in the shapes oneDNN was measured getting wrong there.
/// </summary>
[TestClass]
public sealed class OneDnnGuardTests
{
    [TestMethod]
    public void OneDnnIsCappedExactlyWhereCpuidDescribesNoCaches()
    {
        if (Environment.GetEnvironmentVariable("CNNZOO_ONEDNN") is { Length: > 0 } chosen)
            Assert.Inconclusive($"CNNZOO_ONEDNN={chosen} overrides the guard's own choice");
        if (OneDnnGuard.UserCap is { } cap)
            Assert.Inconclusive($"an instruction-set cap set by the user ({cap}) is left alone");
        var expected = CpuCapabilities.Current.CacheTopology ? OneDnnSetting.Default : OneDnnSetting.CappedToAvx;
        Assert.AreEqual(expected, OneDnnGuard.Setting, $"CPU: {CpuCapabilities.Current}; guard: {OneDnnGuard.Ensure() ?? "nothing changed"}");
        Assert.AreEqual(expected != OneDnnSetting.Default, OneDnnGuard.Ensure() is not null, "a change always comes with its reason");
    }

    [TestMethod]
    [TestCategory("Slow")]
    [DataRow("off", "oneDNN off")]
    [DataRow("avx", "oneDNN held to its AVX kernels")]
    [DataRow("sometimes", "expected default, avx or off; found 'sometimes'")]
    public void TheOverrideIsObeyedAndSaidOnTheConsole(string value, string note)
    {
        // A child process: the setting is per process, and oneDNN reads its cap once.
        string runs = new TempFolder("onednn-" + value).Path;
        var (code, output, error) = CliRunner.RunProcess(runs, TimeSpan.FromMinutes(2), new Dictionary<string, string> { ["CNNZOO_ONEDNN"] = value },
                                                         ["train", "--epochs", "1", "--train-per-class", "20", "--out", runs]);
        Assert.AreEqual(0, code, error);
        StringAssert.Contains(error, "note: ");
        StringAssert.Contains(error, note);
        StringAssert.Contains(output, "Done (Completed)");   // LeNet-5 trained either way
    }

    [TestMethod]
    [DataRow(24, 3, false, DisplayName = "GoogLeNet's 24-channel 3x3, NCHW")]
    [DataRow(64, 3, true, DisplayName = "ResNet's 64-channel 3x3, channels-last")]
    [DataRow(256, 1, true, DisplayName = "ResNet-50's 1x1, channels-last")]
    public void Float32ConvolutionAgreesWithFloat64(int channels, int kernel, bool channelsLast)
    {
        OneDnnGuard.Ensure();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var generator = new TorchSharp.torch.Generator(7);
        var x = randn([4, channels, 28, 28], generator: generator);
        var w = randn([channels, channels, kernel, kernel], generator: generator) / Math.Sqrt(channels * kernel * kernel);
        var reference = nn.functional.conv2d(x.to(float64), w.to(float64), padding: [kernel / 2, kernel / 2]);
        if (channelsLast) (x, w) = (MemoryFormat.ToChannelsLast(x), MemoryFormat.ToChannelsLast(w));
        var actual = nn.functional.conv2d(x, w, padding: [kernel / 2, kernel / 2]);
        double error = (actual.to(float64) - reference).abs().max().item<double>();
        double scale = reference.abs().max().item<double>();
        Assert.IsTrue(error <= 1e-4 * scale, $"max |fp32 - fp64| = {error:G3} at output scale {scale:G3}");
    }
}
