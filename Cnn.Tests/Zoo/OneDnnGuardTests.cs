using Cnn.Zoo.Inference;
using static TorchSharp.torch;

namespace Cnn.Tests.Zoo;

/// <summary>
/// The guard turns libtorch's oneDNN off exactly where CPUID describes no caches, and convolutions then agree with a
/// float64 reference in the shapes oneDNN was measured getting wrong there.
/// </summary>
[TestClass]
public sealed class OneDnnGuardTests
{
    [TestMethod]
    public void OneDnnIsOffExactlyWhereCpuidDescribesNoCaches()
    {
        // Where the CPU describes no caches, a null here means the libtorch export was not found and nothing was done.
        Assert.AreEqual(!CpuCapabilities.Current.CacheTopology, OneDnnGuard.Ensure() is not null,
                        $"CPU: {CpuCapabilities.Current}; guard: {OneDnnGuard.DisabledBecause ?? "oneDNN on"}");
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
