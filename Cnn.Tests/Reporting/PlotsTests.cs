using Cnn.Training.Reporting;

namespace Cnn.Tests.Reporting;

/// <summary>The curve plot: round axis steps, and a picture that is drawn at all.</summary>
[TestClass]
public sealed class PlotsTests
{
    [TestMethod]
    [DataRow(50.5, 100.0, 40.0, 100.0, 20.0)]
    [DataRow(0.0833, 2.2885, 0.0, 3.0, 1.0)]
    [DataRow(97.3, 98.2, 97.0, 98.5, 0.5)]
    [DataRow(5.0, 5.0, 4.0, 6.0, 0.5)]
    public void AxisRangesSnapToRoundSteps(double min, double max, double low, double high, double step)
    {
        var range = Plots.RoundRange(min, max);
        Assert.AreEqual(low, range.Min, 1e-9);
        Assert.AreEqual(high, range.Max, 1e-9);
        Assert.AreEqual(step, range.Step, 1e-9);
        Assert.IsTrue(range.Min <= min && range.Max >= max);
    }

    [TestMethod]
    public void CurvesDrawEverySeriesInsideTheCanvas()
    {
        var rows = Enumerable.Range(1, 5).Select(e => new Dictionary<string, double>
        {
            ["epoch"] = e, ["train_acc"] = 0.5 + 0.1 * e, ["val_top1"] = 0.55 + 0.08 * e,
        }).ToList();
        using var bitmap = Plots.Curves("Accuracy (%)", rows, ["train_acc", "val_top1"], percent: true);
        Assert.AreEqual(760, bitmap.Width);
        int coloured = 0;
        for (int y = 0; y < bitmap.Height; y += 2)
            for (int x = 0; x < bitmap.Width; x += 2)
            {
                var c = bitmap.GetPixel(x, y);
                if (Math.Abs(c.Red - c.Green) > 60 || Math.Abs(c.Blue - c.Green) > 60) coloured++;
            }
        Assert.IsTrue(coloured > 200, $"only {coloured} coloured pixels: the curves were not drawn");
    }
}
