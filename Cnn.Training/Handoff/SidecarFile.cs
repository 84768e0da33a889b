using System.Text.Json;
using Cnn.Zoo;
using Cnn.Zoo.IO;

namespace Cnn.Training.Handoff;

/// <summary>
/// Writes the description a weights file needs to be used (<c>model.pt</c> gets <c>model.json</c> beside it): the
/// registry model and options, the class names and the preprocessing, with snake_case names, as the training script
/// of a handoff reads them. A stand-in for <c>Cnn.Transfer.Catalog.WeightsSidecar.Write</c>, which main is adding
/// with the same JSON and which <c>--weights FILE</c> will read; once it lands, this becomes
/// <c>new WeightsSidecar(model, options, classes, preprocessing with { PadSmallSquares = ... }).Write(weightsFile)</c>.
/// </summary>
internal static class SidecarFile
{
    static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    /// <summary>The sidecar of <paramref name="weightsFile"/>: the same folder and name, extension <c>.json</c>.</summary>
    public static string PathFor(string weightsFile)
        => Path.Combine(Path.GetDirectoryName(Path.GetFullPath(weightsFile))!, Path.GetFileNameWithoutExtension(weightsFile) + ".json");

    /// <param name="padSmallSquares">Square images of the crop size or a few even pixels smaller get a zero border
    /// instead of a resize (MNIST's 28 pixels to LeNet-5's 32): what a checkpoint without a recorded evaluation resize
    /// means (<see cref="Data.DataSetup.EvalResize"/>).</param>
    public static void Write(string weightsFile, string model, IReadOnlyDictionary<string, string> options,
                             IReadOnlyList<string> classes, Preprocessing preprocessing, bool padSmallSquares)
    {
        var sidecar = new
        {
            Model = model,
            ModelOptions = options,
            Classes = classes,
            Preprocessing = new
            {
                preprocessing.ResizeSize, preprocessing.CropSize, preprocessing.Mean, preprocessing.Std,
                preprocessing.Interpolation, PadSmallSquares = padSmallSquares,
            },
        };
        AtomicFile.WriteAllText(PathFor(weightsFile), JsonSerializer.Serialize(sidecar, Json));
    }
}
