using Cnn.Training.Data;
using Cnn.Training.Training;
using Cnn.Zoo.IO;
using Cnn.Zoo.Models;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Training.Reporting;

/// <summary>
/// Pictures of a run, drawn with SkiaSharp: learning curves, the confusion matrix, the first layer's filters (the
/// edge detectors the course notes describe) and one sample's feature maps after each stage.
/// </summary>
public static class Plots
{
    static readonly SKColor[] Palette = [new(31, 119, 180), new(255, 127, 14), new(44, 160, 44), new(214, 39, 40)];

    public static void WriteAll(RunFolder run, ZooModel model, CheckpointInfo info, EvaluationResult? final, DataLoader loader)
    {
        var epochs = run.Epochs;
        if (epochs.Count > 0)
        {
            Save(run.File("loss.png"), Curves("Loss", epochs, ["train_loss", "val_loss"], percent: false));
            Save(run.File("accuracy.png"), Curves("Accuracy (%)", epochs, ["train_acc", "val_top1", "val_top5"], percent: true));
        }
        if (final is not null) Save(run.File("confusion.png"), Confusion(final.Confusion, info.Classes));
        var weight = model.state_dict().GetValueOrDefault(model.FirstConvName + ".weight");
        if (weight is not null) Save(run.File("filters.png"), Filters(weight));
        using var batch = loader.Epoch(0).First();
        Save(run.File("feature_maps.png"), FeatureMaps(model, batch.Images[0..1]));
    }

    static void Save(string path, SKBitmap bitmap)
    {
        using (bitmap)
        using (var image = SKImage.FromBitmap(bitmap))
        using (var data = image.Encode(SKEncodedImageFormat.Png, 100))
            AtomicFile.Write(path, s => data.SaveTo(s));
    }

    static SKFont Font(float size) => new(SKTypeface.Default, size);

    /// <summary>
    /// A line chart of metrics.csv columns against the epoch: y ticks at round steps (1, 2 or 5 x 10^k), and the legend
    /// in a margin of its own so it never covers a curve.
    /// </summary>
    public static SKBitmap Curves(string title, IReadOnlyList<Dictionary<string, double>> rows, string[] columns, bool percent)
    {
        const int w = 760, h = 420, left = 70, right = 150, top = 40, bottom = 50;
        var bitmap = new SKBitmap(w, h);
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        var series = columns.Where(c => rows.Any(r => r.ContainsKey(c)))
            .Select(c => (c, rows.Select(r => (X: r["epoch"], Y: r.GetValueOrDefault(c, double.NaN) * (percent ? 100 : 1))).Where(p => double.IsFinite(p.Y)).ToList()))
            .ToList();
        var ys = series.SelectMany(s => s.Item2.Select(p => p.Y)).DefaultIfEmpty(0).ToList();
        var (yMin, yMax, step) = RoundRange(ys.Min(), ys.Max());
        double xMax = Math.Max(2, rows.Max(r => r["epoch"]));
        float X(double x) => (float)(left + (x - 1) / (xMax - 1) * (w - left - right));
        float Y(double y) => (float)(top + (yMax - y) / (yMax - yMin) * (h - top - bottom));
        using var axis = new SKPaint { Color = SKColors.LightGray, StrokeWidth = 1, IsAntialias = true };
        using var text = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        using var font = Font(14);
        canvas.DrawText(title, left, 24, SKTextAlign.Left, font, text);
        string format = "F" + Math.Max(0, -(int)Math.Floor(Math.Log10(step)));
        for (double v = yMin; v <= yMax + step / 2; v += step)
        {
            canvas.DrawLine(left, Y(v), w - right, Y(v), axis);
            canvas.DrawText(v.ToString(format, System.Globalization.CultureInfo.InvariantCulture), left - 8, Y(v) + 5, SKTextAlign.Right, font, text);
        }
        canvas.DrawText("epoch", left + (w - left - right) / 2f, h - 10, SKTextAlign.Center, font, text);
        for (int e = 1; e <= (int)xMax; e += Math.Max(1, (int)xMax / 10))
            canvas.DrawText(e.ToString(System.Globalization.CultureInfo.InvariantCulture), X(e), h - bottom + 18, SKTextAlign.Center, font, text);
        for (int s = 0; s < series.Count; s++)
        {
            using var pen = new SKPaint { Color = Palette[s % Palette.Length], StrokeWidth = 2.5f, IsAntialias = true, Style = SKPaintStyle.Stroke };
            var points = series[s].Item2;
            for (int i = 1; i < points.Count; i++) canvas.DrawLine(X(points[i - 1].X), Y(points[i - 1].Y), X(points[i].X), Y(points[i].Y), pen);
            foreach (var p in points) canvas.DrawCircle(X(p.X), Y(p.Y), 3, pen);
            float legendY = top + 10 + 22 * s;
            canvas.DrawLine(w - right + 16, legendY, w - right + 40, legendY, pen);
            canvas.DrawText(series[s].c, w - right + 48, legendY + 5, SKTextAlign.Left, font, text);
        }
        return bitmap;
    }

    /// <summary>The data range widened to multiples of a round step (1, 2 or 5 x 10^k) giving 2 to 6 intervals.</summary>
    public static (double Min, double Max, double Step) RoundRange(double min, double max)
    {
        if (max - min < 1e-9) { min -= 1; max += 1; }
        double raw = (max - min) / 4;
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = new[] { 1.0, 2.0, 5.0, 10.0 }.Select(f => f * magnitude).First(s => s >= raw);
        return (Math.Floor(min / step) * step, Math.Ceiling(max / step) * step, step);
    }

    /// <summary>The confusion matrix as a heat map, rows normalised, counts printed in each cell.</summary>
    public static SKBitmap Confusion(long[,] confusion, IReadOnlyList<string> classes)
    {
        int n = confusion.GetLength(0), cell = Math.Max(28, Math.Min(60, 600 / Math.Max(1, n))), margin = 110;
        var bitmap = new SKBitmap(margin + n * cell + 10, margin + n * cell + 10);
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        using var font = Font(Math.Min(13, cell / 3f));
        using var text = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        for (int i = 0; i < n; i++)
        {
            long rowSum = Math.Max(1, Enumerable.Range(0, n).Sum(j => confusion[i, j]));
            string name = i < classes.Count ? classes[i] : i.ToString();
            if (name.Length > 12) name = name[..12];
            canvas.DrawText(name, 4, margin + i * cell + cell / 2f + 4, SKTextAlign.Left, font, text);
            canvas.Save();
            canvas.RotateDegrees(-90, margin + i * cell + cell / 2f + 4, margin - 6);
            canvas.DrawText(name, margin + i * cell + cell / 2f + 4, margin - 6, SKTextAlign.Left, font, text);
            canvas.Restore();
            for (int j = 0; j < n; j++)
            {
                double share = (double)confusion[i, j] / rowSum;
                byte shade = (byte)(255 - 200 * share);
                using var fill = new SKPaint { Color = new SKColor(shade, shade, 255) };
                canvas.DrawRect(margin + j * cell, margin + i * cell, cell - 1, cell - 1, fill);
                using var count = new SKPaint { Color = share > 0.5 ? SKColors.White : SKColors.Black, IsAntialias = true };
                canvas.DrawText(confusion[i, j].ToString(), margin + j * cell + 3, margin + i * cell + cell / 2f + 4, SKTextAlign.Left, font, count);
            }
        }
        return bitmap;
    }

    /// <summary>First-layer filters as a grid of small images (colour when the input has 3 channels).</summary>
    public static SKBitmap Filters(Tensor weight)
    {
        using var w = weight.detach().cpu().to_type(ScalarType.Float32);
        int count = (int)w.shape[0], channels = (int)w.shape[1], kh = (int)w.shape[2], kw = (int)w.shape[3];
        int scale = Math.Max(4, 48 / Math.Max(kh, kw)), columns = (int)Math.Ceiling(Math.Sqrt(count)), rows = (count + columns - 1) / columns;
        var bitmap = new SKBitmap(columns * (kw * scale + 4) + 4, rows * (kh * scale + 4) + 4);
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        float[] values = w.data<float>().ToArray();
        for (int f = 0; f < count; f++)
        {
            var slice = new ArraySegment<float>(values, f * channels * kh * kw, channels * kh * kw);
            float min = float.MaxValue, max = float.MinValue;
            foreach (float v in slice) { min = Math.Min(min, v); max = Math.Max(max, v); }
            float range = Math.Max(1e-8f, max - min);
            int ox = 4 + f % columns * (kw * scale + 4), oy = 4 + f / columns * (kh * scale + 4);
            for (int y = 0; y < kh; y++)
            for (int x = 0; x < kw; x++)
            {
                byte G(int c) => (byte)(255 * (slice[c * kh * kw + y * kw + x] - min) / range);
                var colour = channels >= 3 ? new SKColor(G(0), G(1), G(2)) : new SKColor(G(0), G(0), G(0));
                using var paint = new SKPaint { Color = colour };
                canvas.DrawRect(ox + x * scale, oy + y * scale, scale, scale, paint);
            }
        }
        return bitmap;
    }

    /// <summary>
    /// One image's feature maps after each stage: the outputs of the model's top-level children (and of the
    /// children of a <c>features</c> sequence) that are 4-D, up to eight stages and eight channels each.
    /// </summary>
    public static SKBitmap FeatureMaps(ZooModel model, Tensor image)
    {
        var captured = new List<(string Name, Tensor Map)>();
        var removers = new List<Action>();
        var candidates = model.named_children().SelectMany(c => c.name == "features"
            ? c.module.named_children().Select(g => ($"features.{g.name}", g.module))
            : [(c.name, c.module)]);
        foreach (var (name, module) in candidates)
        {
            if (module is not nn.Module<Tensor, Tensor> m) continue;
            var r = m.register_forward_hook((_, _, output) =>
            {
                if (output.dim() == 4) captured.Add((name, output.detach().clone().DetachFromDisposeScope()));
                return output;
            });
            removers.Add(r.remove);
        }
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var _ = no_grad();
            using var scope = NewDisposeScope();
            model.call(image.to(model.parameters().First().device));
        }
        finally
        {
            removers.ForEach(r => r());
            model.train(wasTraining);
        }
        // Keep the last capture of each spatial size: the end of each stage.
        var stages = captured.GroupBy(c => c.Map.shape[2]).Select(g => g.Last()).Take(8).ToList();
        const int tile = 64, channels = 8, label = 140;
        var bitmap = new SKBitmap(label + channels * (tile + 4), Math.Max(1, stages.Count) * (tile + 4) + 4);
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        using var font = Font(12);
        using var text = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        for (int s = 0; s < stages.Count; s++)
        {
            var (name, map) = stages[s];
            canvas.DrawText($"{name} {map.shape[1]}x{map.shape[2]}x{map.shape[3]}", 4, s * (tile + 4) + tile / 2f + 4, SKTextAlign.Left, font, text);
            using var cpu = map[0].cpu().to_type(ScalarType.Float32);
            int h = (int)cpu.shape[1], w = (int)cpu.shape[2];
            for (int c = 0; c < Math.Min(channels, (int)cpu.shape[0]); c++)
            {
                float[] v = cpu[c].contiguous().data<float>().ToArray();
                float min = v.Min(), max = v.Max(), range = Math.Max(1e-8f, max - min);
                using var small = new SKBitmap(w, h);
                for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    byte g = (byte)(255 * (v[y * w + x] - min) / range);
                    small.SetPixel(x, y, new SKColor(g, g, g));
                }
                canvas.DrawImage(SKImage.FromBitmap(small), new SKRect(label + c * (tile + 4), s * (tile + 4) + 4, label + c * (tile + 4) + tile, s * (tile + 4) + 4 + tile), new SKSamplingOptions(SKFilterMode.Nearest), null);
            }
            map.Dispose();
        }
        return bitmap;
    }
}
