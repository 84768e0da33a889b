using Cnn.Transfer.Catalog;

namespace Cnn.Tests.Catalog;

/// <summary>The cache folders follow torch.hub's rule (torch/hub.py: _get_torch_home, get_dir), so both share files.</summary>
[TestClass]
public sealed class WeightsCacheTests
{
    const string Home = "/home/ada";

    static WeightsCache From(params (string Name, string Value)[] variables)
        => WeightsCache.FromEnvironment(name => variables.FirstOrDefault(v => v.Name == name).Value, Home);

    [TestMethod]
    public void NothingSet_UsesDotCacheTorch()
    {
        var cache = From();
        Assert.AreEqual("/home/ada/.cache/torch/hub/checkpoints", cache.CheckpointsDirectory);
        Assert.AreEqual("/home/ada/.cache/cnnzoo", cache.ConvertedDirectory);
        Assert.IsNull(cache.BaseUrl);
    }

    [TestMethod]
    public void XdgCacheHome_HoldsTorch()
        => Assert.AreEqual("/xdg/torch/hub/checkpoints", From(("XDG_CACHE_HOME", "/xdg")).CheckpointsDirectory);

    [TestMethod]
    public void TorchHome_WinsOverXdg()
    {
        var cache = From(("TORCH_HOME", "/data/torch"), ("XDG_CACHE_HOME", "/xdg"));
        Assert.AreEqual("/data/torch/hub/checkpoints", cache.CheckpointsDirectory);
        Assert.AreEqual("/xdg/cnnzoo", cache.ConvertedDirectory);
    }

    [TestMethod]
    public void Tilde_IsExpandedAndEmptyCountsAsUnset()
    {
        Assert.AreEqual("/home/ada/models/torch/hub/checkpoints", From(("TORCH_HOME", "~/models/torch")).CheckpointsDirectory);
        Assert.AreEqual("/home/ada/.cache/torch/hub/checkpoints", From(("TORCH_HOME", "")).CheckpointsDirectory);
    }

    [TestMethod]
    public void ConvertedWeights_HaveTheirOwnVariable()
        => Assert.AreEqual("/tmp/zoo", From(("CNNZOO_CACHE", "/tmp/zoo"), ("XDG_CACHE_HOME", "/xdg")).ConvertedDirectory);

    [TestMethod]
    public void MirrorVariable_ReplacesTheBaseUrl()
    {
        var cache = From(("CNNZOO_WEIGHTS_URL", "http://mirror.local/torch/"));
        var file = new PublishedFile("https://download.pytorch.org/models/resnet50-11ad3fa6.pth");
        Assert.AreEqual("http://mirror.local/torch/resnet50-11ad3fa6.pth", cache.UrlFor(file));
        Assert.AreEqual(file.Url, From().UrlFor(file));
        Assert.AreEqual("http://mirror.local/resnet50-11ad3fa6.pth", (cache with { BaseUrl = "http://mirror.local" }).UrlFor(file));
    }

    [TestMethod]
    public void HashPrefix_IsReadFromTheFileNameAsTorchHubReadsIt()
    {
        Assert.AreEqual("11ad3fa6", new PublishedFile("https://x/models/resnet50-11ad3fa6.pth").Sha256Prefix);
        // torch.hub's regex takes the first '-' followed by hex digits and a dot: 'owt' is not hex.
        Assert.AreEqual("7be5be79", new PublishedFile("https://x/models/alexnet-owt-7be5be79.pth").Sha256Prefix);
        Assert.IsNull(new PublishedFile("https://x/models/weights.pth").Sha256Prefix);
    }
}
