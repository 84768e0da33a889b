using Cnn.Training.Data;
using Cnn.Training.Training;
using Cnn.Zoo.IO;
using Cnn.Zoo.Models;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Training.Reporting;

/// <summary>
/// Pictures of a run: the learning curves and the confusion matrix (charts, drawn by <see cref="Charts"/>), and two
/// image grids drawn here with SkiaSharp, where a plotting library adds nothing: the first layer's filters (the edge
/// detectors the course notes describe) and one sample's feature maps after each stage.
/// </summary>
public static class Plots
{
    public static void WriteAll(RunFolder run, ZooModel model, CheckpointInfo info, EvaluationResult? final, DataLoader loader,
                                IReadOnlyList<Dictionary<string, double>> epochs)
    {
        if (epochs.Count > 0)
        {
            Charts.Save(Charts.Curves("Loss", "cross-entropy loss", epochs, ["train_loss", "val_loss"], percent: false),
                        run.File("loss.png"), Charts.CurveWidth, Charts.CurveHeight);
            Charts.Save(Charts.Curves("Accuracy", "accuracy (%)", epochs, ["train_acc", "val_top1", "val_top5"], percent: true),
                        run.File("accuracy.png"), Charts.CurveWidth, Charts.CurveHeight);
        }
        if (final is not null)
        {
            int side = Math.Clamp(60 * info.Classes.Count + 260, 520, 1000);
            Charts.Save(Charts.Confusion(final.Confusion, info.Classes), run.File("confusion.png"), side + 120, side);
        }
        var weight = model.state_dict().GetValueOrDefault(model.FirstConvName + ".weight");
        if (weight is not null) PngFile.Save(run.File("filters.png"), Filters(weight));
        using var batch = loader.Epoch(0).First();
        PngFile.Save(run.File("feature_maps.png"), FeatureMaps(model, batch.Images[0..1]));
    }

    static SKFont Font(float size) => new(SKTypeface.Default, size);

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
