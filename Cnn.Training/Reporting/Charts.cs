using System.Globalization;
using Cnn.Training.Training;
using Cnn.Zoo.IO;
using ScottPlot;

namespace Cnn.Training.Reporting;

/// <summary>
/// The run's and the benchmark's charts, drawn by ScottPlot 5: learning curves, the confusion matrix as a heat map, and
/// the inference benchmark as grouped bars. ScottPlot picks the axis ticks, lays out titles and legends, and draws the
/// colour bar; the filter and feature-map grids, which are pictures rather than charts, stay in <see cref="Plots"/>.
/// </summary>
public static class Charts
{
    /// <summary>Pixel sizes of the saved pictures.</summary>
    public const int CurveWidth = 760, CurveHeight = 420, BarHeight = 460;

    /// <summary>Writes <paramref name="plot"/> as a PNG of <paramref name="width"/> x <paramref name="height"/>, atomically.</summary>
    public static void Save(Plot plot, string path, int width, int height)
    {
        byte[] png = plot.GetImageBytes(width, height, ImageFormat.Png);
        AtomicFile.Write(path, s => s.Write(png));
    }

    /// <summary>
    /// metrics.csv columns against the epoch, one line with markers per column, a legend naming them. Fractions are
    /// shown in percent when <paramref name="percent"/>.
    /// </summary>
    public static Plot Curves(string title, string yLabel, IReadOnlyList<Dictionary<string, double>> rows, string[] columns, bool percent)
    {
        var plot = new Plot();
        foreach (string column in columns)
        {
            var points = rows.Where(r => r.TryGetValue(column, out double v) && double.IsFinite(v)).ToList();
            if (points.Count == 0) continue;
            var line = plot.Add.Scatter(points.Select(r => r["epoch"]).ToArray(),
                                        points.Select(r => r[column] * (percent ? 100 : 1)).ToArray());
            line.LegendText = column;
            line.LineWidth = 2;
            line.MarkerSize = 6;
        }
        plot.Title(title);
        plot.XLabel("epoch");
        plot.YLabel(yLabel);
        // Whole epochs only: ScottPlot's default ticks would put 1.5 between 1 and 2.
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.ShowLegend(Edge.Right);
        return plot;
    }

    /// <summary>
    /// A learning-rate range test: smoothed loss against the rate on a log scale (ticks at powers of ten), the
    /// suggested rate marked by a vertical line and named in the legend.
    /// </summary>
    public static Plot LearningRate(LearningRateSearch search)
    {
        var plot = new Plot();
        var curve = plot.Add.Scatter(search.Rates.Select(Math.Log10).ToArray(), search.Losses);
        curve.LegendText = "smoothed training loss";
        curve.LineWidth = 2;
        curve.MarkerSize = 0;
        var mark = plot.Add.VerticalLine(Math.Log10(search.Suggested));
        mark.LegendText = $"suggested rate {search.Suggested:G2}";
        mark.LineWidth = 2;
        mark.LinePattern = LinePattern.Dashed;
        plot.Title("Learning-rate range test");
        plot.XLabel("learning rate (log scale)");
        plot.YLabel("loss");
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            IntegerTicksOnly = true,
            LabelFormatter = x => string.Create(CultureInfo.InvariantCulture, $"1e{x:0}"),
        };
        // The loss near divergence dwarfs the valley: show up to one and a half times the first loss.
        double top = Math.Max(search.Losses.Where(double.IsFinite).DefaultIfEmpty(1).Min() * 1.05, 1.5 * search.Losses[0]);
        double bottom = search.Losses.Where(double.IsFinite).DefaultIfEmpty(0).Min();
        plot.Axes.SetLimitsY(bottom - 0.05 * (top - bottom), top);
        plot.ShowLegend(Edge.Bottom);
        return plot;
    }

    /// <summary>
    /// The confusion matrix as a heat map: row i is the true class, column j the predicted one; colour is the share of
    /// class i's images predicted as j (rows sum to 1, so classes of different sizes compare), the count is printed in
    /// each cell, and a colour bar gives the scale.
    /// </summary>
    public static Plot Confusion(long[,] confusion, IReadOnlyList<string> classes)
    {
        int n = confusion.GetLength(0);
        var shares = new double[n, n];
        for (int i = 0; i < n; i++)
        {
            double total = Math.Max(1, Enumerable.Range(0, n).Sum(j => (double)confusion[i, j]));
            for (int j = 0; j < n; j++) shares[i, j] = confusion[i, j] / total;
        }
        var plot = new Plot();
        var map = plot.Add.Heatmap(shares);
        map.Colormap = new ScottPlot.Colormaps.Viridis();
        map.ManualRange = new ScottPlot.Range(0, 1);
        // ScottPlot draws row 0 at the top; cell (i, j) is centred on x = j, y = n - 1 - i, as in a printed matrix.
        map.CellAlignment = Alignment.MiddleCenter;
        map.Extent = new CoordinateRect(0, n - 1, 0, n - 1);
        plot.Add.ColorBar(map);
        for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
        {
            var count = plot.Add.Text(confusion[i, j].ToString(CultureInfo.InvariantCulture), j, n - 1 - i);
            count.LabelAlignment = Alignment.MiddleCenter;
            count.LabelFontSize = n > 12 ? 9 : 12;
            count.LabelFontColor = shares[i, j] > 0.5 ? Colors.Black : Colors.White;
        }
        string Name(int c) => c < classes.Count ? classes[c] : c.ToString(CultureInfo.InvariantCulture);
        var positions = Enumerable.Range(0, n).Select(c => (double)c).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(positions, Enumerable.Range(0, n).Select(Name).ToArray());
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            positions, Enumerable.Range(0, n).Select(c => Name(n - 1 - c)).ToArray());
        if (classes.Any(c => c.Length > 3))
        {
            plot.Axes.Bottom.TickLabelStyle.Rotation = 45;
            plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
            plot.Axes.Bottom.MinimumSize = 7 * classes.Max(c => c.Length) + 30;
        }
        plot.XLabel("predicted");
        plot.YLabel("true");
        plot.Title("Confusion matrix: counts, coloured by share of the true class");
        plot.Axes.SetLimits(-0.5, n - 0.5, -0.5, n - 0.5);
        plot.HideGrid();
        return plot;
    }
}
