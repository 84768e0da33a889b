using System.Security.Cryptography;
using Cnn.Tests.Support;
using Cnn.Tests.Transfer;
using Cnn.Transfer.Catalog;
using Cnn.Zoo;
using static TorchSharp.torch;

namespace Cnn.Tests.Catalog;

/// <summary>
/// Fetching published weights as torch.hub does, against an HTTP server on the loopback interface that serves
/// PyTorch's own LeNet-5 file (Fixtures/transfer/lenet5.pt) under catalog entries made for the test. Nothing here
/// touches the internet or the real ~/.cache.
/// </summary>
[TestClass]
public sealed class WeightsDownloadTests
{
    static readonly byte[] LeNetFile = File.ReadAllBytes(TransferFixtures.PathOf("lenet5.pt"));
    static readonly string[] Digits = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];

    string folder = null!;
    WeightsCache cache = null!;

    [TestInitialize]
    public void CreateCache()
    {
        folder = new TempFolder("weights-download").Path;
        cache = new WeightsCache(Path.Combine(folder, "torch", "hub", "checkpoints"), Path.Combine(folder, "cnnzoo"));
    }

    [TestCleanup]
    public void DeleteCache() => Directory.Delete(folder, recursive: true);

    /// <summary>The name torchvision would publish the file under: the first 8 hex digits of its SHA-256.</summary>
    static string PublishedName(byte[] bytes) => $"lenet5-{Convert.ToHexStringLower(SHA256.HashData(bytes))[..8]}.pth";

    static WeightsCatalog CatalogFor(string url) => new(
    [
        new WeightsEntry
        {
            Model = "lenet5", Name = "TEST_V1", IsDefault = true, NumClasses = 10, Categories = Digits,
            Preprocessing = new Preprocessing(32, 32, [0.1307], [0.3081]), Source = new PublishedFile(url),
        },
    ]);

    string[] CacheFiles() => Directory.Exists(cache.CheckpointsDirectory) ? Directory.GetFiles(cache.CheckpointsDirectory) : [];

    [TestMethod]
    public void Download_IsVerifiedCachedAndGivesPyTorchsOutputs()
    {
        string name = PublishedName(LeNetFile);
        using var server = new LoopbackServer();
        server.Add(name, LeNetFile);
        var progress = new List<DownloadProgress>();
        var log = new List<string>();

        using var pretrained = CatalogFor(server.BaseUrl + name).Create("lenet5", "DEFAULT", cache: cache, log: log.Add, progress: progress.Add);

        string cached = Path.Combine(cache.CheckpointsDirectory, name);
        CollectionAssert.AreEqual(new[] { cached }, CacheFiles(), "only the final file, no temporary one");
        CollectionAssert.AreEqual(LeNetFile, File.ReadAllBytes(cached));
        Assert.IsTrue(log.Any(l => l.Contains(server.BaseUrl + name, StringComparison.Ordinal)), string.Join("\n", log));
        Assert.IsNotEmpty(progress);
        Assert.AreEqual(LeNetFile.Length, progress[^1].Bytes);
        Assert.AreEqual(LeNetFile.Length, progress[^1].TotalBytes);
        Assert.AreEqual(1.0, progress[^1].Fraction);
        CollectionAssert.AreEqual(progress.Select(p => p.Bytes).Order().ToList(), progress.Select(p => p.Bytes).ToList(), "bytes never go back");

        Assert.IsTrue(pretrained.Report.IsExact, pretrained.Report.ToString());
        Assert.AreEqual("three", pretrained.Categories![3]);
        var (input, logits, _) = TransferFixtures.Expected();
        pretrained.Model.eval();
        using var x = tensor(input, TransferFixtures.InputShape);
        using var expected = tensor(logits, [2, 10]);
        using var actual = TransferFixtures.Logits(pretrained.Model, x);
        Assert.IsLessThan(1e-5f, TransferFixtures.MaxAbsDiff(actual, expected), "the downloaded weights give PyTorch's logits");
    }

    [TestMethod]
    public void CacheHit_WorksWithTheServerStopped()
    {
        string name = PublishedName(LeNetFile);
        var server = new LoopbackServer();
        server.Add(name, LeNetFile);
        var catalog = CatalogFor(server.BaseUrl + name);
        catalog.Create("lenet5", cache: cache, log: _ => { }).Dispose();
        Assert.AreEqual(1, server.Requests);
        server.Dispose();

        var progress = new List<DownloadProgress>();
        var log = new List<string>();
        using var again = catalog.Create("lenet5", cache: cache, log: log.Add, progress: progress.Add);
        Assert.IsEmpty(progress, "nothing downloaded");
        Assert.IsEmpty(log, string.Join("\n", log));
        Assert.IsTrue(again.Report.IsExact);
    }

    [TestMethod]
    public void FilePlacedByHand_IsUsedWithoutNetwork()
    {
        // What a PyTorch user's earlier download, or a file copied by hand, looks like: nothing listens on the URL.
        string name = PublishedName(LeNetFile);
        Directory.CreateDirectory(cache.CheckpointsDirectory);
        File.WriteAllBytes(Path.Combine(cache.CheckpointsDirectory, name), LeNetFile);
        using var pretrained = CatalogFor($"http://127.0.0.1:{LoopbackServer.FreePort()}/models/{name}").Create("lenet5", cache: cache, log: _ => { });
        Assert.IsTrue(pretrained.Report.IsExact);
    }

    [TestMethod]
    public void WrongHash_LeavesNothingAndSaysSo()
    {
        const string name = "lenet5-deadbeef.pth";
        using var server = new LoopbackServer();
        server.Add(name, LeNetFile);
        var error = Assert.ThrowsExactly<WeightsDownloadException>(
            () => CatalogFor(server.BaseUrl + name).Create("lenet5", cache: cache, log: _ => { }));
        string digest = Convert.ToHexStringLower(SHA256.HashData(LeNetFile));
        StringAssert.Contains(error.Message, "deadbeef");
        StringAssert.Contains(error.Message, digest, "the actual hash is named");
        Assert.IsEmpty(CacheFiles(), "no partial and no final file");
    }

    [TestMethod]
    public void TransferCutShort_LeavesNothingAndSaysSo()
    {
        string name = PublishedName(LeNetFile);
        using var server = new LoopbackServer();
        server.Add(name, LeNetFile, LoopbackServer.Serving.CutShort);
        var error = Assert.ThrowsExactly<WeightsDownloadException>(
            () => CatalogFor(server.BaseUrl + name).Create("lenet5", cache: cache, log: _ => { }));
        StringAssert.Contains(error.Message, "cut short");
        StringAssert.Contains(error.Message, $"{LeNetFile.Length:N0}", "the expected size is named");
        Assert.IsEmpty(CacheFiles());
    }

    [TestMethod]
    public void NotFound_SaysHttp404AndWhereToPutTheFile()
    {
        string name = PublishedName(LeNetFile);
        using var server = new LoopbackServer();
        var error = Assert.ThrowsExactly<WeightsDownloadException>(
            () => CatalogFor(server.BaseUrl + name).Create("lenet5", cache: cache, log: _ => { }));
        StringAssert.Contains(error.Message, "HTTP 404");
        StringAssert.Contains(error.Message, server.BaseUrl + name);
        StringAssert.Contains(error.Message, Path.Combine(cache.CheckpointsDirectory, name));
        Assert.IsEmpty(CacheFiles());
    }

    [TestMethod]
    public void ConnectionRefused_NamesFileUrlAndCachePath()
    {
        string name = PublishedName(LeNetFile);
        string url = $"http://127.0.0.1:{LoopbackServer.FreePort()}/models/{name}";
        var error = Assert.ThrowsExactly<WeightsDownloadException>(
            () => CatalogFor(url).Create("lenet5", cache: cache, log: _ => { }));
        StringAssert.Contains(error.Message, name);
        StringAssert.Contains(error.Message, url);
        string destination = Path.Combine(cache.CheckpointsDirectory, name);
        StringAssert.Contains(error.Message, destination);
        Assert.AreEqual(destination, error.Destination);
        Assert.IsEmpty(CacheFiles());
    }

    [TestMethod]
    public void TwoConcurrentFetches_EndWithOneVerifiedFile()
    {
        string name = PublishedName(LeNetFile);
        // The server answers neither request before both have arrived, so the two downloads overlap for certain.
        using var server = new LoopbackServer(holdUntilRequests: 2);
        server.Add(name, LeNetFile);
        string destination = Path.Combine(cache.CheckpointsDirectory, name);
        var file = new PublishedFile(server.BaseUrl + name);
        var fetches = Enumerable.Range(0, 2)
            .Select(_ => Task.Run(() => WeightsDownloader.Fetch(file.Url, destination, file.Sha256Prefix)))
            .ToArray();
        Task.WaitAll(fetches);

        Assert.AreEqual(2, server.Requests, "both downloaded");
        Assert.IsTrue(fetches.All(f => f.Result == destination));
        CollectionAssert.AreEqual(new[] { destination }, CacheFiles());
        CollectionAssert.AreEqual(LeNetFile, File.ReadAllBytes(destination));
    }

    [TestMethod]
    public void Mirror_ReplacesTheBaseUrlButNotTheFileName()
    {
        string name = PublishedName(LeNetFile);
        using var server = new LoopbackServer();
        server.Add(name, LeNetFile);
        var mirrored = cache with { BaseUrl = server.BaseUrl };
        var catalog = CatalogFor(WeightsCache.PublishedBaseUrl + name);
        Assert.AreEqual(server.BaseUrl + name, mirrored.UrlFor((PublishedFile)catalog.Get("lenet5").Source));
        using var pretrained = catalog.Create("lenet5", cache: mirrored, log: _ => { });
        Assert.AreEqual(1, server.Requests);
        Assert.IsTrue(File.Exists(Path.Combine(cache.CheckpointsDirectory, name)));
    }
}
