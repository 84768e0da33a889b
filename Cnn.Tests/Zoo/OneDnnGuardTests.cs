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
    public void TheGuardCapsExactlyWhereCpuidDescribesNoCachesFakedBothWays()
    {
        Assert.AreEqual((OneDnnSetting.Default, (string?)null), OneDnnGuard.Decide(null, cacheTopology: true, userCap: null));
        var (capped, why) = OneDnnGuard.Decide(null, cacheTopology: false, userCap: null);
        Assert.AreEqual(OneDnnSetting.CappedToAvx, capped);
        StringAssert.Contains(why, "describes no caches");
        Assert.AreEqual(OneDnnSetting.Default, OneDnnGuard.Decide(null, cacheTopology: false, userCap: "AVX2").Setting, "a user's cap is left alone");
        Assert.AreEqual(OneDnnSetting.Default, OneDnnGuard.Decide("default", cacheTopology: false, userCap: null).Setting);
        Assert.AreEqual(OneDnnSetting.CappedToAvx, OneDnnGuard.Decide("AVX", cacheTopology: true, userCap: null).Setting);
        Assert.AreEqual(OneDnnSetting.Off, OneDnnGuard.Decide(" off ", cacheTopology: true, userCap: null).Setting);
        var (overUsers, said) = OneDnnGuard.Decide("avx", cacheTopology: false, userCap: "AVX2");
        Assert.AreEqual(OneDnnSetting.Default, overUsers, "CNNZOO_ONEDNN=avx does not overwrite the user's own cap");
        StringAssert.Contains(said, "AVX2) is kept");
        var (kept, message) = OneDnnGuard.Decide("sometimes", cacheTopology: false, userCap: null);
        Assert.AreEqual(OneDnnSetting.Default, kept);
        StringAssert.Contains(message, "expected default, avx or off; found 'sometimes'");
    }

    [TestMethod]
    public void OnThisMachineTheGuardFollowsTheCachesLinuxLists()
    {
        Machine.Require(OperatingSystem.IsLinux(), "reads the caches Linux lists in sysfs");
        string? chosen = Environment.GetEnvironmentVariable("CNNZOO_ONEDNN");
        Machine.Require(string.IsNullOrEmpty(chosen), $"CNNZOO_ONEDNN={chosen} overrides the guard's own choice");
        Machine.Require(OneDnnGuard.UserCap is null, $"an instruction-set cap set by the user ({OneDnnGuard.UserCap}) is left alone");
        // Linux fills sysfs from the same CPUID leaves, so it is an independent reading of what the guard looks at.
        bool listed = Directory.Exists("/sys/devices/system/cpu/cpu0/cache/index0");
        var expected = listed ? OneDnnSetting.Default : OneDnnSetting.CappedToAvx;
        Assert.AreEqual(expected, OneDnnGuard.Setting, $"Linux lists {(listed ? "caches" : "no caches")}; guard: {OneDnnGuard.Ensure() ?? "nothing changed"}");
    }

    [TestMethod]
    [TestCategory("Slow")]   // starts cnnzoo once per setting
    [DataRow("off", "oneDNN off")]
    [DataRow("avx", "oneDNN held to its AVX kernels")]
    [DataRow("sometimes", "expected default, avx or off; found 'sometimes'")]
    public void TheOverrideIsObeyedAndSaidOnTheConsole(string value, string note)
    {
        // A child process: the setting is per process, and oneDNN reads its cap once.
        using var runsTemp = new TempFolder("onednn-" + value);
        string runs = runsTemp.Path;
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
