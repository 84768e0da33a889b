using Cnn.Zoo;
using Cnn.Training.Data;
using Cnn.Zoo.IO;
using Cnn.Zoo.Analysis;
using Cnn.Zoo.Models;
using static TorchSharp.torch;

namespace Cnn.Training.Reporting;

/// <summary>
/// The <c>explain</c> verb's work: for each image file, the image as the model sees it, its Grad-CAM, and beside it
/// in the output folder <c>&lt;name&gt;.gradcam.png</c> (<see cref="GradCamPictures.Explanation"/>) and
/// <c>&lt;name&gt;.gradcam.csv</c> (the raw map, <see cref="GradCamPictures.Csv"/>).
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

    static string OutputName(string image) => Path.GetFileNameWithoutExtension(image);
}
