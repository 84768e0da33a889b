using Cnn.Zoo;
using SkiaSharp;
using Cnn.Training.Data;
using Cnn.Zoo.IO;
using Cnn.Zoo.Analysis;
using Cnn.Zoo.Models;
using static TorchSharp.torch;

namespace Cnn.Training.Reporting;

/// <summary>
/// Grad-CAM on real images, drawn by <see cref="GradCamPictures"/>: the <c>explain</c> verb's work (for each image
/// file, <c>&lt;name&gt;.gradcam.png</c> and the raw map <c>&lt;name&gt;.gradcam.csv</c>) and the run folder's grid of
/// held-out images.
/// </summary>
public static class Explainer
{
    /// <summary>
    /// Explains every file in <paramref name="images"/>, in order, and returns each map (with the model's probabilities,
    /// for a top-5 list). Two inputs that would write the same output name are refused before anything is written;
    /// an unreadable image stops the run with its path.
    /// </summary>
    public static IReadOnlyList<(string Image, GradCamMap Map, string Picture, string Csv)> ExplainFiles(
        ZooModel model, IReadOnlyList<string> images, string outputFolder, ExplainSettings settings)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(settings);
        var clash = images.GroupBy(OutputName, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (clash is not null)
            throw new InvalidChoiceException($"{string.Join(" and ", clash)} would both write {clash.Key}.gradcam.png; " +
                                        "explain them into different --out folders or rename one");
        Directory.CreateDirectory(outputFolder);
        var results = new List<(string, GradCamMap, string, string)>();
        foreach (string image in images)
        {
            var (seen, map) = Explain(model, image, settings);
            string stem = Path.Combine(outputFolder, OutputName(image));
            PngFile.Save(stem + ".gradcam.png", GradCamPictures.Explanation(seen, map, settings.Classes));
            AtomicFile.WriteAllText(stem + ".gradcam.csv", GradCamPictures.Csv(map));
            results.Add((image, map, stem + ".gradcam.png", stem + ".gradcam.csv"));
        }
        return results;
    }

    /// <summary>One image file: the image as the model saw it (back in [0, 1]) and its Grad-CAM.</summary>
    public static (ImageData Seen, GradCamMap Map) Explain(ZooModel model, string image, ExplainSettings settings)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(settings);
        ImageData decoded;
        try
        {
            decoded = ImageCodec.Decode(image, model.Input.Channels == 1 ? ColorMode.Grey : ColorMode.Rgb);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException && !e.Message.Contains(image, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{image}: {e.Message}", e);
        }
        var transform = DataSetup.Pipeline(SampleGeometry.Of(decoded), model.Input, settings.Preprocessing, augment: false).Eval;
        var input = transform.Apply(decoded, new Random(0));
        using var batch = tensor(input.Pixels, [1, input.Channels, input.Height, input.Width]);
        var map = GradCam.Compute(model, batch, settings.TargetClass, settings.Layer)[0];
        return (GradCamPictures.Denormalise(input, settings.Preprocessing), map);
    }

    /// <summary>
    /// The run folder's grid: up to <paramref name="count"/> held-out images taken class by class in turn (the first
    /// of each class, then the second, ...), each explained for its predicted class at the convolutional body.
    /// </summary>
    public static SKBitmap HeldOutGrid(ZooModel model, IImageDataset heldOut, ITransform transform, Preprocessing preprocessing,
                                       int count = 16)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(heldOut);
        var byClass = Enumerable.Range(0, heldOut.Count).GroupBy(heldOut.LabelOf).OrderBy(g => g.Key)
            .Select(g => g.ToList()).ToList();
        var candidates = Enumerable.Range(0, heldOut.Count).SelectMany(rank => byClass.Where(c => rank < c.Count).Select(c => c[rank]));
        var picked = new List<(int Index, ImageData Input)>();
        foreach (int index in candidates)
        {
            if (picked.Count == count) break;
            try
            {
                picked.Add((index, transform.Apply(heldOut.Load(index), new Random(0))));
            }
            catch (BadSampleException)
            {
                // An unreadable held-out file was already reported (or skipped) by the run; the next one stands in.
            }
        }
        if (picked.Count == 0) throw new InvalidChoiceException("no readable held-out image to explain");
        var items = new List<(ImageData, GradCamMap, int)>();
        // A few images per pass: the backward pass keeps every activation of a trainable model.
        foreach (var chunk in picked.Chunk(4))
        {
            var first = chunk[0].Input;
            var batch = new float[chunk.Length * first.Pixels.Length];
            for (int n = 0; n < chunk.Length; n++) chunk[n].Input.Pixels.CopyTo(batch, n * first.Pixels.Length);
            using var images = tensor(batch, [chunk.Length, first.Channels, first.Height, first.Width]);
            var maps = GradCam.Compute(model, images);
            for (int n = 0; n < chunk.Length; n++)
                items.Add((GradCamPictures.Denormalise(chunk[n].Input, preprocessing), maps[n], heldOut.LabelOf(chunk[n].Index)));
        }
        int correct = items.Count(item => item.Item2.Predicted == item.Item3);
        return GradCamPictures.Grid(items, heldOut.Classes, $"{model.GetName()}: where it looks on {items.Count} held-out images ({correct} right)");
    }

    static string OutputName(string image) => Path.GetFileNameWithoutExtension(image);
}
