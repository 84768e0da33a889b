using System.Text.Json;
using System.Text.Json.Serialization;
using Cnn.Zoo;

namespace Cnn.Transfer.Catalog;

/// <summary>
/// What a weights file of this project needs to be used, in a small JSON file beside it (<c>model.pt</c> and
/// <c>model.safetensors</c> share <c>model.json</c>): the registry model and options it was built as, its class
/// names, and how its images were prepared. fine-tune, train and handoff write it with the weights; loading a file
/// (<see cref="WeightsCatalog.Load"/>) reads it, so <c>--weights runs/x/model.pt</c> knows what its checkpoint
/// knows. The names are snake_case, as the Python side of a handoff reads them.
/// </summary>
/// <param name="Model">The registry model the weights fit (<c>resnet18</c>), built with <paramref name="ModelOptions"/>.</param>
/// <param name="ModelOptions">Registry options of the build (<c>layers=2,2,2,3</c>).</param>
/// <param name="Classes">Output class names in index order.</param>
/// <param name="Preprocessing">How an image is prepared for the model.</param>
/// <param name="Split">The data the weights were trained on and its held-out part, so <c>eval --weights</c> on that
/// folder scores only images the model never trained on; null when unknown.</param>
public sealed record WeightsSidecar(string Model, IReadOnlyDictionary<string, string> ModelOptions, IReadOnlyList<string> Classes,
                                    Preprocessing Preprocessing, DataSplit? Split = null)
{
    static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>The sidecar of <paramref name="weightsFile"/>: the same folder and name, extension <c>.json</c>.</summary>
    public static string PathFor(string weightsFile)
    {
        ArgumentNullException.ThrowIfNull(weightsFile);
        return Path.Combine(Path.GetDirectoryName(Path.GetFullPath(weightsFile))!, Path.GetFileNameWithoutExtension(weightsFile) + ".json");
    }

    /// <summary>The sidecar of <paramref name="weightsFile"/>; null when there is none.</summary>
    /// <exception cref="InvalidDataException">The file exists but is not a sidecar.</exception>
    public static WeightsSidecar? Read(string weightsFile)
    {
        string path = PathFor(weightsFile);
        if (!File.Exists(path)) return null;
        try
        {
            var sidecar = JsonSerializer.Deserialize<WeightsSidecar>(File.ReadAllText(path), Json);
            if (sidecar?.Model is null || sidecar.Preprocessing is null || sidecar.Classes is null)
                throw new JsonException("model, classes or preprocessing is missing");
            return sidecar with { ModelOptions = sidecar.ModelOptions ?? new Dictionary<string, string>() };
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidChoiceException)
        {
            throw new InvalidDataException(
                $"{path} is not a readable description of {Path.GetFileName(weightsFile)} ({e.Message}); expected the JSON that " +
                "finetune, train or handoff write beside their weights (model, model_options, classes, preprocessing). " +
                "Delete or repair it to load the weights with torchvision's ImageNet defaults", e);
        }
    }

    /// <summary>Writes the sidecar of <paramref name="weightsFile"/> (atomically: a reader never sees half of it).</summary>
    public void Write(string weightsFile)
        => Zoo.IO.AtomicFile.WriteAllText(PathFor(weightsFile), JsonSerializer.Serialize(this, Json));
}
