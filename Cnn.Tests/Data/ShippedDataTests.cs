using Cnn.Training.Data;
using Cnn.Zoo;
using TorchSharp;

namespace Cnn.Tests.Data;

[TestClass]
public sealed class ShippedDataTests
{
    [TestMethod]
    public void MnistLoads8000And2000WithTenClasses()
    {
        var (train, test) = Datasets.IdxFolder(Path.Combine(TestPaths.RepoRoot, "data", "mnist"));

        Assert.AreEqual(8000, train.Count);
        Assert.AreEqual(2000, test.Count);
        CollectionAssert.AreEqual(Enumerable.Range(0, 10).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray(), train.Classes.ToArray());
        var image = train.Load(0);
        Assert.AreEqual("1x28x28", image.ToString());
        Assert.IsTrue(image.Pixels.All(v => v >= 0 && v <= 1) && image.Pixels.Max() > 0.5f, "ink on a dark background, in [0, 1]");
        Assert.AreEqual(801, Enumerable.Range(0, train.Count).Count(i => train.LabelOf(i) == 0), "README per-class table");
    }

    [TestMethod]
    public void FashionMnistLoadsWithClassNames()
    {
        var (train, test) = Datasets.IdxFolder(Path.Combine(TestPaths.RepoRoot, "data", "fashion-mnist"));

        Assert.AreEqual(6000, train.Count);
        Assert.AreEqual(1000, test.Count);
        Assert.AreEqual("T-shirt/top", train.Classes[0]);
        Assert.AreEqual("Ankle boot", test.Classes[9]);
    }

    [TestMethod]
    public void FashionMnistExportFeedsAnRgbModel()
    {
        var (train, _) = Datasets.IdxFolder(Path.Combine(TestPaths.RepoRoot, "data", "fashion-mnist"));
        using var temp = new TempFolder();

        DatasetExport.ToImageFolder(train, temp.Path, perClass: 30);
        var folder = Datasets.ImageFolder(temp.Path);
        var loader = new DataLoader(folder, Transforms.Compose(Transforms.Resize(64), Transforms.CenterCrop(56, 56),
            Transforms.Normalize(Preprocessing.ImageNet)), batchSize: 32, shuffle: true, seed: 0);

        Assert.AreEqual(300, folder.Count);
        Assert.AreEqual("T-shirt_top", folder.Classes[0], "classes.txt keeps Fashion-MNIST's label order");
        Assert.AreEqual("Ankle boot", folder.Classes[9]);
        using var batch = loader.Epoch(0).First();
        CollectionAssert.AreEqual(new long[] { 32, 3, 56, 56 }, batch.Images.shape);
    }

    [TestMethod]
    public void MnistBatchesForLeNet()
    {
        var (train, _) = Datasets.IdxFolder(Path.Combine(TestPaths.RepoRoot, "data", "mnist"));
        var loader = new DataLoader(train, Transforms.Compose(Transforms.Pad(2), Transforms.Normalize([0.1307f], [0.3081f])),
            batchSize: 64, shuffle: true, seed: 0);

        using var batch = loader.Epoch(0).First();

        CollectionAssert.AreEqual(new long[] { 64, 1, 32, 32 }, batch.Images.shape);
        Assert.AreEqual(125, loader.BatchesPerEpoch, "8,000 images / 64 per batch");
        // The 2-pixel border is padding: black (0) normalised, (0 - 0.1307) / 0.3081 = -0.42421.
        var corner = batch.Images[.., 0, ..2, ..2];
        Assert.AreEqual(-0.42421f, corner.min().item<float>(), 1e-4f);
        Assert.AreEqual(-0.42421f, corner.max().item<float>(), 1e-4f);
    }
}
