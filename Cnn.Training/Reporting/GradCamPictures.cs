using Cnn.Zoo;
using System.Globalization;
using System.Text;
using Cnn.Training.Data;
using Cnn.Zoo.IO;
using Cnn.Zoo.Analysis;
using Cnn.Zoo.Models;
using SkiaSharp;
using static TorchSharp.torch;

namespace Cnn.Training.Reporting;

/// <summary>
/// Grad-CAM as pictures: the image as the model saw it, beside the same image with the heat map laid over it (the map
/// upsampled bilinearly to the input, min-max normalised and coloured with <see cref="Inferno"/>), captioned with the
/// class and its probability. One image for <c>explain</c>, a grid of held-out images for a run folder.
/// </summary>
public static class GradCamPictures
{
    /// <summary>Share of the heat map's colour in the blend (pytorch-grad-cam's <c>show_cam_on_image</c> uses 0.5).</summary>
    const float HeatWeight = 0.5f;

    /// <summary>Longer side of each panel of the single-image picture and of the grid's panels, in pixels.</summary>
    const int ExplainPanel = 256, GridPanel = 128, Gap = 8;

    static readonly SKColor Ink = new(20, 20, 20), Muted = new(90, 90, 90);
    static readonly SKColor Right = new(0, 120, 50), Wrong = new(190, 30, 30);

    /// <summary>A network input back in [0, 1] for display: <c>x * std[c] + mean[c]</c> with
    /// <paramref name="preprocessing"/>'s statistics, clamped.</summary>
    public static ImageData Denormalise(ImageData input, Preprocessing preprocessing)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(preprocessing);
        if (preprocessing.Mean.Count != input.Channels)
            throw new ArgumentException($"the statistics have {preprocessing.Mean.Count} mean(s); the image has {input.Channels} channel(s)");
        var pixels = new float[input.Pixels.Length];
        for (int c = 0; c < input.Channels; c++)
        {
            float m = (float)preprocessing.Mean[c], s = (float)preprocessing.Std[c];
            for (int i = c * input.PlaneSize; i < (c + 1) * input.PlaneSize; i++) pixels[i] = Math.Clamp(input.Pixels[i] * s + m, 0f, 1f);
        }
        return new ImageData(pixels, input.Channels, input.Height, input.Width);
    }

    /// <summary>The raw map at the target layer's resolution: one row per line, comma-separated, no header.</summary>
    public static string Csv(GradCamMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        var sb = new StringBuilder();
        for (int y = 0; y < map.Height; y++)
        {
            for (int x = 0; x < map.Width; x++)
            {
                if (x > 0) sb.Append(',');
                sb.Append(map.Values[y, x].ToString("R", CultureInfo.InvariantCulture));
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>
    /// The heat map over <paramref name="image"/> (values in [0, 1], as <see cref="Denormalise"/> gives), at the image's
    /// size: the map upsampled bilinearly (PyTorch's <c>align_corners=False</c>), scaled so its minimum is 0 and its
    /// maximum 1, coloured, and blended. A constant map has no hot spot and colours everything cold.
    /// </summary>
    public static SKBitmap Overlay(ImageData image, GradCamMap map)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(map);
        var heat = new float[map.Height * map.Width];
        Buffer.BlockCopy(map.Values, 0, heat, 0, heat.Length * sizeof(float));
        var upsampled = ImageOps.ResizeBilinear(new ImageData(heat, 1, map.Height, map.Width), 0, 0, map.Height, map.Width,
                                                image.Height, image.Width).Pixels;
        float min = upsampled.Min(), range = upsampled.Max() - min;
        var bitmap = new SKBitmap(image.Width, image.Height);
        for (int y = 0; y < image.Height; y++)
        for (int x = 0; x < image.Width; x++)
        {
            int i = y * image.Width + x;
            var (hr, hg, hb) = Inferno.At(range > 0 ? (upsampled[i] - min) / range : 0f);
            var (r, g, b) = Pixel(image, i);
            bitmap.SetPixel(x, y, new SKColor(Blend(r, hr), Blend(g, hg), Blend(b, hb)));
        }
        return bitmap;
    }

    static byte Blend(float image, float heat) => Inferno.ToByte((1 - HeatWeight) * image + HeatWeight * heat);

    /// <summary>Pixel <paramref name="i"/> as RGB fractions; a grey image repeats its one channel.</summary>
    static (float R, float G, float B) Pixel(ImageData image, int i) => image.Channels >= 3
        ? (image.Pixels[i], image.Pixels[image.PlaneSize + i], image.Pixels[2 * image.PlaneSize + i])
        : (image.Pixels[i], image.Pixels[i], image.Pixels[i]);

    static SKBitmap Plain(ImageData image)
    {
        var bitmap = new SKBitmap(image.Width, image.Height);
        for (int y = 0; y < image.Height; y++)
        for (int x = 0; x < image.Width; x++)
        {
            var (r, g, b) = Pixel(image, y * image.Width + x);
            bitmap.SetPixel(x, y, new SKColor(Inferno.ToByte(r), Inferno.ToByte(g), Inferno.ToByte(b)));
        }
        return bitmap;
    }

    /// <summary>
    /// One explained image: the image and its overlay side by side, then the class and its probability, the layer,
    /// and the model's top-1 when another class was explained.
    /// </summary>
    public static SKBitmap Explanation(ImageData image, GradCamMap map, IReadOnlyList<string> classes)
    {
        ArgumentNullException.ThrowIfNull(classes);
        var (panelWidth, panelHeight) = PanelSize(image, ExplainPanel);
        var lines = new List<string> { $"Grad-CAM at {map.LayerDescription} ({map.Height} x {map.Width})" };
        if (map.Predicted != map.Class)
            lines.Add($"the model's top-1: {Name(map.Predicted, classes)} {Percent(map.Probabilities[map.Predicted])}");
        int width = 2 * panelWidth + 3 * Gap, captionHeight = 34 + 20 * lines.Count;
        var bitmap = new SKBitmap(width, panelHeight + 2 * Gap + captionHeight);
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        DrawPanels(canvas, image, map, Gap, Gap, panelWidth, panelHeight);
        float top = panelHeight + 2 * Gap, textWidth = width - 3 * Gap - ColourBarWidth;
        using var big = Font(18, bold: true);
        using var small = Font(13);
        Text(canvas, $"{Name(map.Class, classes)}  {Percent(map.Probability)}", Gap, top + 20, big, Ink, textWidth);
        for (int i = 0; i < lines.Count; i++) Text(canvas, lines[i], Gap, top + 44 + 20 * i, small, Muted, textWidth);
        DrawColourBar(canvas, width - Gap - ColourBarWidth, top + 8, small);
        return bitmap;
    }

    /// <summary>
    /// A grid of explained images, four per row: each the image and its overlay, the true class, and the predicted
    /// class with its probability in green when right and red when wrong.
    /// </summary>
    public static SKBitmap Grid(IReadOnlyList<(ImageData Image, GradCamMap Map, int TrueClass)> items, IReadOnlyList<string> classes,
                                string title)
    {
        ArgumentNullException.ThrowIfNull(items);
        if (items.Count == 0) throw new ArgumentException("a Grad-CAM grid needs at least one image", nameof(items));
        var (panelWidth, panelHeight) = PanelSize(items[0].Image, GridPanel);
        const int columns = 4, captionHeight = 40, titleHeight = 58;
        int tileWidth = 2 * panelWidth + Gap, tileHeight = panelHeight + captionHeight;
        int rows = (items.Count + columns - 1) / columns;
        int width = Math.Min(columns, items.Count) * (tileWidth + 2 * Gap) + 2 * Gap;
        var bitmap = new SKBitmap(Math.Max(width, 560), titleHeight + rows * (tileHeight + 2 * Gap) + Gap);
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        using var heading = Font(16, bold: true);
        using var font = Font(12);
        Text(canvas, title, 2 * Gap, 24, heading, Ink, bitmap.Width - 4 * Gap);
        Text(canvas, $"each: the image as the model saw it | Grad-CAM heat map at {items[0].Map.LayerDescription} " +
                     $"({items[0].Map.Height} x {items[0].Map.Width}) for the predicted class",
             2 * Gap, 44, font, Muted, bitmap.Width - 4 * Gap - ColourBarWidth - Gap);
        DrawColourBar(canvas, bitmap.Width - 2 * Gap - ColourBarWidth, 8, font);
        for (int n = 0; n < items.Count; n++)
        {
            var (image, map, truth) = items[n];
            float left = 2 * Gap + n % columns * (tileWidth + 2 * Gap), top = titleHeight + n / columns * (tileHeight + 2 * Gap);
            DrawPanels(canvas, image, map, left, top, panelWidth, panelHeight);
            Text(canvas, $"true: {Name(truth, classes)}", left, top + panelHeight + 16, font, Ink, tileWidth);
            Text(canvas, $"predicted: {Name(map.Class, classes)} {Percent(map.Probability)}", left, top + panelHeight + 32,
                 font, map.Class == truth ? Right : Wrong, tileWidth);
        }
        return bitmap;
    }

    /// <summary>Panel size for a longer side of <paramref name="target"/> pixels, keeping the image's aspect ratio.</summary>
    static (int Width, int Height) PanelSize(ImageData image, int target)
    {
        double scale = (double)target / Math.Max(image.Height, image.Width);
        return (Math.Max(1, (int)Math.Round(image.Width * scale)), Math.Max(1, (int)Math.Round(image.Height * scale)));
    }

    /// <summary>
    /// The image and its overlay scaled to the panel: small inputs (MNIST's 32 x 32) are enlarged with visible pixels
    /// (nearest neighbour), as the model saw them; large ones are resampled smoothly.
    /// </summary>
    static void DrawPanels(SKCanvas canvas, ImageData image, GradCamMap map, float left, float top, int width, int height)
    {
        var sampling = width >= 2 * image.Width
            ? new SKSamplingOptions(SKFilterMode.Nearest)
            : new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear);
        using var plainBitmap = Plain(image);
        using var overlayBitmap = Overlay(image, map);
        using var plain = SKImage.FromBitmap(plainBitmap);
        using var overlay = SKImage.FromBitmap(overlayBitmap);
        canvas.DrawImage(plain, new SKRect(left, top, left + width, top + height), sampling, null);
        canvas.DrawImage(overlay, new SKRect(left + width + Gap, top, left + 2 * width + Gap, top + height), sampling, null);
    }

    const int ColourBarWidth = 120;

    /// <summary>The colour scale with its ends labelled: the map is min-max normalised, so only "low" and "high" mean anything.</summary>
    static void DrawColourBar(SKCanvas canvas, float left, float top, SKFont font)
    {
        for (int x = 0; x < ColourBarWidth; x++)
        {
            using var paint = new SKPaint { Color = Inferno.Color(x / (ColourBarWidth - 1f)) };
            canvas.DrawRect(left + x, top, 1, 12, paint);
        }
        using var text = new SKPaint { Color = Muted, IsAntialias = true };
        canvas.DrawText("low", left, top + 28, SKTextAlign.Left, font, text);
        canvas.DrawText("high", left + ColourBarWidth, top + 28, SKTextAlign.Right, font, text);
    }

    static SKFont Font(float size, bool bold = false) =>
        new(bold ? SKTypeface.FromFamilyName(null, SKFontStyle.Bold) ?? SKTypeface.Default : SKTypeface.Default, size);

    /// <summary>Draws <paramref name="text"/> cut with an ellipsis to <paramref name="maxWidth"/> pixels.</summary>
    static void Text(SKCanvas canvas, string text, float x, float y, SKFont font, SKColor colour, float maxWidth)
    {
        string shown = text;
        while (shown.Length > 1 && font.MeasureText(shown) > maxWidth) shown = shown[..^2] + "…";
        using var paint = new SKPaint { Color = colour, IsAntialias = true };
        canvas.DrawText(shown, x, y, SKTextAlign.Left, font, paint);
    }

    static string Name(int c, IReadOnlyList<string> classes) =>
        c < classes.Count ? classes[c] : c.ToString(CultureInfo.InvariantCulture);

    static string Percent(float p) => (100 * p).ToString("F1", CultureInfo.InvariantCulture) + "%";
}
