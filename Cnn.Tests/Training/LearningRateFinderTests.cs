using Cnn.Tests.Cli;
using Cnn.Training.Data;
using Cnn.Training.Training;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Tests.Training;

/// <summary>The learning-rate range test: its suggestion, that it leaves the weights as they were, and --lr auto.</summary>
[TestClass]
public sealed class LearningRateFinderTests
{
    /// <summary>Three classes of 16 inputs decided by a fixed linear rule; inputs scaled by 30, so plain SGD on a small
    /// ReLU network diverges at rates far below 10 (the loss's curvature grows with the square of the scale).</summary>
    static List<Batch> Data()
    {
        var generator = new Generator(11);
        var batches = new List<Batch>();
        using var rule = randn([16, 3], generator: generator);
        for (int b = 0; b < 8; b++)
        {
            var x = randn([32, 16], generator: generator) * 30;
            var y = x.matmul(rule).argmax(1);
            batches.Add(new Batch(x.reshape(32, 16, 1, 1), y));
        }
        return batches;
    }

    static IEnumerable<Batch> Copies(List<Batch> data) => data.Select(b => new Batch(b.Images.clone(), b.Labels.clone()));

    static nn.Module<Tensor, Tensor> Model()
    {
        manual_seed(5);
        return nn.Sequential(nn.Flatten(), nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 3));
    }

    /// <summary>The smallest rate of a grid at which four passes of plain SGD over the data end with a mean loss over the
    /// last pass twice that of the first (or not finite): measured directly, not by the finder.</summary>
    static double DivergenceRate(List<Batch> data)
    {
        foreach (double rate in Enumerable.Range(0, 41).Select(i => 1e-6 * Math.Pow(10, i / 5.0)))
        {
            using var model = Model();
            using var sgd = optim.SGD(model.parameters(), rate);
            var losses = new List<double>();
            for (int step = 0; step < 4 * data.Count; step++)
            {
                var batch = data[step % data.Count];
                using var scope = NewDisposeScope();
                sgd.zero_grad();
                var loss = nn.functional.cross_entropy(model.call(batch.Images), batch.Labels);
                loss.backward();
                sgd.step();
                losses.Add(loss.item<float>());
            }
            double first = losses.Take(data.Count).Average(), last = losses.TakeLast(data.Count).Average();
            if (!double.IsFinite(last) || last > 2 * first) return rate;
        }
        throw new AssertFailedException("no rate of the grid diverged");
    }

    [TestMethod]
    public void TheSuggestionIsBelowTheRateWhereTrainingDivergesAndTheWeightsAreLeftAsTheyWere()
    {
        var data = Data();
        double diverges = DivergenceRate(data);
        using var model = Model();
        var before = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        using var sgd = optim.SGD(model.parameters(), 1.0);

        var search = LearningRateFinder.Run(model, sgd, () => Copies(data), CPU);

        Console.WriteLine($"diverges at {diverges:G3}; suggested {search.Suggested:G3} ({search.Rule}); {search.Ended}");
        Assert.IsTrue(search.Suggested < diverges, $"suggested {search.Suggested:G3}, but SGD at {diverges:G3} already diverges");
        Assert.IsTrue(search.Suggested > LearningRateFinder.Start * 10, $"suggested {search.Suggested:G3}: hardly above where the test starts");
        Assert.IsTrue(search.Rates.Length < LearningRateFinder.Steps, $"the test should stop at the divergence: {search.Ended}");
        foreach (var (key, value) in model.state_dict())
            Assert.IsTrue(equal(before[key], value).all().item<bool>(), $"{key} changed");
        Assert.AreEqual(1.0, sgd.ParamGroups.First().LearningRate, "the optimizer's rate is put back");
    }

    [TestMethod]
    public void TheValleyIsHalfwayIntoTheMiddleThirdOfTheLongestFall()
    {
        // 100 rates; the loss is flat (2.3) for steps 0-29, falls steadily from step 30 to 69, then rises.
        double[] rates = [.. Enumerable.Range(0, 100).Select(i => 1e-7 * Math.Pow(1e8, i / 99.0))];
        double[] losses = [.. Enumerable.Range(0, 100).Select(i => i < 30 ? 2.3 : i < 70 ? 2.3 - 0.04 * (i - 29) : 0.7 + 0.2 * (i - 69))];
        // The longest falling run starts at step 29 (the last 2.3) and ends at 69: 40 steps; a third is 13, and half a
        // third 6, so the valley is step 29 + 13 + 6 = 48.
        var (rate, rule) = LearningRateFinder.Valley(rates, losses);
        Assert.AreEqual(rates[48], rate, 1e-12 * rate, rule);

        var (flat, why) = LearningRateFinder.Valley(rates[..5], [1, 1, 1, 1, 1]);
        Assert.AreEqual(rates[0] / 10, flat, 1e-18, "no fall: a tenth of the rate with the lowest loss");
        StringAssert.Contains(why, "never fell");
    }

    [TestMethod]
    [TestCategory("Slow")]   // a whole train run: the range test, an epoch, 2,000 held-out digits, the pictures
    public void TrainWithLrAutoPrintsTheSuggestionAndDrawsTheCurve()
    {
        using var folder = new TempFolder("lr-auto");
        var run = CliRunner.Run("train", "--lr", "auto", "--epochs", "1", "--train-per-class", "40", "--workers", "1",
                                "--out", folder.File("runs"));
        Assert.AreEqual(0, run.Code, run.Output + run.Error);
        StringAssert.Contains(run.Output, "--lr auto: learning-rate range test, 100 steps");
        StringAssert.Contains(run.Output, "valley");
        string runFolder = Directory.GetDirectories(folder.File("runs")).Single();
        using var picture = SKBitmap.Decode(Path.Combine(runFolder, "lr_find.png"));
        Assert.IsNotNull(picture, "lr_find.png decodes");
        Assert.AreEqual(760, picture.Width);
        Assert.IsTrue(File.Exists(Path.Combine(runFolder, "lr_find.json")));

        var wrong = CliRunner.Run("train", "--lr", "fast");
        Assert.AreEqual(2, wrong.Code);
        StringAssert.Contains(wrong.Error, "--lr: expected a positive number or auto; found 'fast'");
    }
}
