using System.Globalization;
using ScottPlot;

namespace Cnn.Training.Benchmarks;

/// <summary>The picture of a benchmark run (<c>bench.png</c>), drawn with ScottPlot as the other charts (<see cref="Reporting.Charts"/>).</summary>
public static class BenchmarkChart
{
    /// <summary>
    /// The inference section of a benchmark as grouped bars: one group per model, one bar per variant, the height its
    /// speed relative to the plain zoo model of the same group (images/s differ by 1,000x between LeNet-5 and VGG-16,
    /// ratios compare on one axis).
    /// </summary>
    public static Plot Inference(IReadOnlyList<BenchRow> rows, string title)
    {
        var inference = rows.Where(r => r.Section == "inference" && double.IsFinite(r.ImagesPerSecond)).ToList();
        var models = inference.Select(r => r.Model).Distinct().ToList();
        var variants = inference.Select(r => VariantKey(r.Variant)).Distinct().ToList();
        var palette = new ScottPlot.Palettes.Category10();
        var plot = new Plot();
        var bars = new List<Bar>();
        for (int m = 0; m < models.Count; m++)
        {
            var group = inference.Where(r => r.Model == models[m]).ToList();
            double plain = group.FirstOrDefault(r => VariantKey(r.Variant) == "zoo plain")?.ImagesPerSecond ?? double.NaN;
            foreach (var row in group)
            {
                int v = variants.IndexOf(VariantKey(row.Variant));
                double ratio = row.ImagesPerSecond / plain;
                if (!double.IsFinite(ratio)) continue;
                bars.Add(new Bar
                {
                    Position = m * (variants.Count + 1) + v,
                    Value = ratio,
                    FillColor = palette.GetColor(v),
                    Label = ratio.ToString("0.0#", CultureInfo.InvariantCulture),
                });
            }
        }
        var plottable = plot.Add.Bars(bars);
        plottable.ValueLabelStyle.FontSize = 10;
        for (int v = 0; v < variants.Count; v++)
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = variants[v], FillColor = palette.GetColor(v) });
        plot.ShowLegend(Edge.Right);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            models.Select((_, m) => m * (variants.Count + 1) + (variants.Count - 1) / 2.0).ToArray(), models.ToArray());
        plot.Axes.Margins(bottom: 0);
        plot.YLabel("images/s relative to the plain zoo model");
        plot.XLabel("model");
        plot.Title(title);
        plot.HideGrid();
        return plot;
    }

    /// <summary>A variant without its parenthesised detail, plus "bf16" when the detail names it: the legend's key.</summary>
    static string VariantKey(string variant)
    {
        int open = variant.IndexOf(" (", StringComparison.Ordinal);
        if (open < 0) return variant;
        return variant[..open] + (variant[open..].Contains("bf16", StringComparison.Ordinal) ? " bf16" : "");
    }
}
