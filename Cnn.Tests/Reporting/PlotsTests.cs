using Cnn.Training.Benchmarks;
using Cnn.Training.Reporting;
using ScottPlot;
using SkiaSharp;

namespace Cnn.Tests.Reporting;

/// <summary>The charts, checked in the PNG they become: its size, what is drawn where, and the colours that mean something.</summary>
[TestClass]
public sealed class PlotsTests
{
    static SKBitmap Render(Plot plot, int width, int height)
    {
        var bitmap = SKBitmap.Decode(plot.GetImageBytes(width, height, ImageFormat.Png));
        Assert.IsNotNull(bitmap, "the chart is a readable PNG");
        Assert.AreEqual(width, bitmap.Width);
        Assert.AreEqual(height, bitmap.Height);
        return bitmap;
    }

    static bool Near(SKColor a, SKColor b, int tolerance = 12)
        => Math.Abs(a.Red - b.Red) <= tolerance && Math.Abs(a.Green - b.Green) <= tolerance && Math.Abs(a.Blue - b.Blue) <= tolerance;

    static int Count(SKBitmap bitmap, Func<SKColor, bool> match)
    {
        int n = 0;
        for (int y = 0; y < bitmap.Height; y++)
            for (int x = 0; x < bitmap.Width; x++)
                if (match(bitmap.GetPixel(x, y))) n++;
        return n;
    }

    static SKColor Skia(Color c) => new(c.R, c.G, c.B);

    [TestMethod]
    public void CurvesDrawEverySeriesInItsOwnColourWithTitlesAndALegend()
    {
        var rows = Enumerable.Range(1, 5).Select(e => new Dictionary<string, double>
        {
            ["epoch"] = e, ["train_acc"] = 0.5 + 0.1 * e, ["val_top1"] = 0.55 + 0.08 * e,
        }).ToList();
        var plot = Charts.Curves("Accuracy", "accuracy (%)", rows, ["train_acc", "val_top1", "val_top5"], percent: true);

        var lines = plot.GetPlottables().OfType<ScottPlot.Plottables.Scatter>().ToList();
        CollectionAssert.AreEqual(new[] { "train_acc", "val_top1" }, lines.Select(l => l.LegendText).ToArray(), "a column without values gets no line");
        Assert.AreEqual(100.0, lines[0].Data.GetScatterPoints()[^1].Y, 1e-9, "fractions are drawn in percent");
        Assert.AreEqual("epoch", plot.Axes.Bottom.Label.Text);
        Assert.AreEqual("accuracy (%)", plot.Axes.Left.Label.Text);
        Assert.IsTrue(plot.Axes.GetPanels().OfType<ScottPlot.Panels.LegendPanel>().Any(), "the legend has a panel of its own beside the chart");

        using var bitmap = Render(plot, Charts.CurveWidth, Charts.CurveHeight);
        foreach (var line in lines)
        {
            var colour = Skia(line.LineColor);
            int pixels = Count(bitmap, c => Near(c, colour));
            Assert.IsTrue(pixels > 300, $"{line.LegendText}: only {pixels} pixels of its colour {colour}: the line was not drawn");
        }
    }

    [TestMethod]
    public void TheConfusionHeatMapNamesTheClassesOnBothAxesAndHasAColourBar()
    {
        string[] classes = ["cat", "dog", "bird"];
        long[,] confusion = { { 10, 0, 0 }, { 0, 10, 0 }, { 0, 0, 10 } };   // every image right: the diagonal is share 1
        var plot = Charts.Confusion(confusion, classes);

        Assert.AreEqual("predicted", plot.Axes.Bottom.Label.Text);
        Assert.AreEqual("true", plot.Axes.Left.Label.Text);
        using var bitmap = Render(plot, 640, 520);
        var ticks = plot.Axes.Bottom.TickGenerator.Ticks.Where(t => t.IsMajor).ToList();
        CollectionAssert.AreEqual(classes, ticks.OrderBy(t => t.Position).Select(t => t.Label).ToArray(), "class names under the columns");
        var rowTicks = plot.Axes.Left.TickGenerator.Ticks.Where(t => t.IsMajor).ToList();
        CollectionAssert.AreEqual(classes, rowTicks.OrderByDescending(t => t.Position).Select(t => t.Label).ToArray(), "class names beside the rows, the first on top");

        // Viridis, the colour map, runs from dark purple (#440154) at share 0 to yellow (#FDE725) at share 1. A point a
        // third of the way into a cell avoids the count printed at its centre.
        SKColor At(int row, int column)
        {
            var pixel = plot.GetPixel(new Coordinates(column - 0.3, classes.Length - 1 - row + 0.3));
            return bitmap.GetPixel((int)pixel.X, (int)pixel.Y);
        }
        var yellow = new SKColor(0xFD, 0xE7, 0x25);
        var purple = new SKColor(0x44, 0x01, 0x54);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                Assert.IsTrue(Near(At(i, j), i == j ? yellow : purple, 20), $"cell ({classes[i]}, {classes[j]}) is {At(i, j)}");

        // A colour bar is a strip of the whole gradient: one column of it holds far more distinct colours than a
        // column through the three cells and their printed counts can.
        int richest = Enumerable.Range(bitmap.Width * 3 / 4, bitmap.Width / 4)
            .Max(x => Enumerable.Range(0, bitmap.Height).Select(y => bitmap.GetPixel(x, y)).Distinct().Count());
        Assert.IsTrue(richest >= 100, $"no colour bar on the right: at most {richest} colours in a column");
    }

    [TestMethod]
    public void TheBenchChartHasABarPerMeasuredVariantRelativeToThePlainModel()
    {
        BenchRow Row(string model, string variant, double rate) => new("inference", model, variant, 8, rate, null, null, null);
        var rows = new List<BenchRow>
        {
            Row("resnet18", "zoo plain", 10), Row("resnet18", "zoo optimized (BN folded + channels-last)", 20),
            Row("resnet18", "zoo optimized (BN folded + channels-last + bf16)", 40),
            Row("lenet5", "zoo plain", 5000), Row("lenet5", "zoo optimized (BN folded)", 7500),
            new("training", "resnet18", "zoo", 8, 3, null, null, null),
        };
        var plot = Cnn.Training.Benchmarks.BenchmarkChart.Inference(rows, "test");

        var bars = plot.GetPlottables().OfType<ScottPlot.Plottables.BarPlot>().Single().Bars.ToList();
        CollectionAssert.AreEqual(new[] { 1.0, 2.0, 4.0, 1.0, 1.5 }, bars.Select(b => b.Value).ToArray(), "images/s over the plain model's, inference rows only");
        CollectionAssert.AreEqual(new[] { "zoo plain", "zoo optimized", "zoo optimized bf16" },
                                  plot.Legend.ManualItems.Select(i => i.LabelText).ToArray(), "one legend entry per variant");
        Assert.AreEqual(bars[1].FillColor, bars[4].FillColor, "the same variant has the same colour in every group");

        using var bitmap = Render(plot, 900, Charts.BarHeight);
        foreach (var colour in bars.Select(b => Skia(b.FillColor)).Distinct())
            Assert.IsTrue(Count(bitmap, c => Near(c, colour, 4)) > 200, $"no bar drawn in {colour}");
    }
}
