using Cnn.Zoo;
using Cnn.Training.Data;

namespace Cnn.Tests.Data;

[TestClass]
public sealed class SplitAndSubsetTests
{
    [TestMethod]
    public void SplitIsStratifiedDisjointAndSeeded()
    {
        var data = new FakeDataset(100, classes: 4); // 25 per class

        var (train, validation) = Datasets.Split(data, 0.2, seed: 9);
        var (train2, _) = Datasets.Split(data, 0.2, seed: 9);
        var (train3, _) = Datasets.Split(data, 0.2, seed: 10);

        Assert.AreEqual(80, train.Count);
        Assert.AreEqual(20, validation.Count);
        var validationLabels = Enumerable.Range(0, validation.Count).GroupBy(validation.LabelOf).ToDictionary(g => g.Key, g => g.Count());
        CollectionAssert.AreEquivalent(new[] { 0, 1, 2, 3 }, validationLabels.Keys.ToArray());
        Assert.IsTrue(validationLabels.Values.All(n => n == 5));
        var trainFiles = Enumerable.Range(0, train.Count).Select(train.Describe).ToList();
        var validationFiles = Enumerable.Range(0, validation.Count).Select(validation.Describe).ToList();
        Assert.AreEqual(0, trainFiles.Intersect(validationFiles).Count());
        CollectionAssert.AreEqual(trainFiles, Enumerable.Range(0, train2.Count).Select(train2.Describe).ToList());
        CollectionAssert.AreNotEqual(trainFiles, Enumerable.Range(0, train3.Count).Select(train3.Describe).ToList());
        Assert.AreSame(data.Classes, train.Classes);
    }

    [TestMethod]
    public void SubsetTakesPerClassAfterSeededShuffle()
    {
        var data = new FakeDataset(1000, classes: 10);

        var subset = Datasets.Subset(data, perClass: 30, seed: 1);

        Assert.AreEqual(300, subset.Count);
        Assert.IsTrue(Enumerable.Range(0, subset.Count).GroupBy(subset.LabelOf).All(g => g.Count() == 30));
        var chosen = Enumerable.Range(0, subset.Count).Select(subset.Describe).ToList();
        CollectionAssert.AreNotEqual(Enumerable.Range(0, 300).Select(data.Describe).ToList(), chosen, "shuffled, not the first 30");
        CollectionAssert.AreEqual(chosen, Enumerable.Range(0, 300).Select(Datasets.Subset(data, 30, 1).Describe).ToList());

        var e = Assert.ThrowsExactly<InvalidChoiceException>(() => Datasets.Subset(data, perClass: 101, seed: 1));
        StringAssert.Contains(e.Message, "class 'class0' (label 0) has 100 samples");
    }
}
