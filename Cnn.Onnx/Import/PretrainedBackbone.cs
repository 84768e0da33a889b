using Cnn.Zoo.Models;

namespace Cnn.Onnx.Import;

/// <summary>A pretrained backbone the zoo can build offline: what it is and where its weights come from.</summary>
/// <param name="Name">Registry name, e.g. <c>resnet18_2223</c>.</param>
/// <param name="Description">One line on the architecture and training data.</param>
/// <param name="Config">The zoo ResNet it converts to.</param>
/// <param name="PackageId">NuGet package that ships the ONNX files (restored by Cnn.Onnx as a PackageDownload).</param>
/// <param name="PackageVersion">Its exact version.</param>
/// <param name="OnnxFile">The network, relative to the package's <c>tools/DnnImageModels/</c>.</param>
/// <param name="PreprocessFile">The preprocessing graph (mean image), same folder.</param>
/// <param name="Licence">Licence of the weights.</param>
public sealed record PretrainedBackbone(string Name, string Description, ResNetConfig Config, string PackageId,
                                        string PackageVersion, string OnnxFile, string PreprocessFile, string Licence)
{
    /// <summary>Bumped whenever the conversion changes, so stale caches are not reused.</summary>
    internal const int ConverterVersion = 1;

    /// <summary>Cache file name: backbone, source package and converter version.</summary>
    public string CacheFileName => $"{Name}.{PackageId.ToLowerInvariant()}-{PackageVersion}.v{ConverterVersion}.safetensors";
}
