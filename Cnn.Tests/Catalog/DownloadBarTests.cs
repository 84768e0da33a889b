using Cnn.Training.Reporting;
using Cnn.Transfer.Catalog;

namespace Cnn.Tests.Catalog;

/// <summary>The download progress line: bytes, size, rate and ETA as torch.hub's bar shows them.</summary>
[TestClass]
public sealed class DownloadBarTests
{
    [TestMethod]
    public void Line_ShowsBytesRateAndEta()
    {
        // 50 MB of 100 MB in 5 s: 10 MB/s, so 5 s to go.
        var halfway = new DownloadProgress("resnet50-11ad3fa6.pth", 50_000_000, 100_000_000, TimeSpan.FromSeconds(5));
        Assert.AreEqual("resnet50-11ad3fa6.pth  50.0 / 100.0 MB  50%  10.0 MB/s  ETA 0:05", DownloadBar.Line(halfway));
        var unknownSize = new DownloadProgress("x.pth", 3_000_000, null, TimeSpan.FromSeconds(2));
        Assert.AreEqual("x.pth  3.0 MB  1.5 MB/s", DownloadBar.Line(unknownSize));
        Assert.IsNull(unknownSize.Eta);
    }

    [TestMethod]
    public void Redirected_WritesOneLinePerQuarter()
    {
        using var log = new StringWriter();
        var bar = new DownloadBar(log, interactive: false);
        for (int percent = 0; percent <= 100; percent++)
            bar.Report(new DownloadProgress("f.pth", percent * 1000, 100_000, TimeSpan.FromSeconds(percent + 1)));
        var lines = log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        CollectionAssert.AreEqual(new[] { "0%", "25%", "50%", "75%", "100%" },
                                  lines.Select(l => l.Split("MB", StringSplitOptions.TrimEntries)[1].Split(' ')[0]).ToArray());
    }
}
