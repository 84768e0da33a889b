using Cnn.Zoo;
using static TorchSharp.torch;

namespace Cnn.Transfer;

/// <summary>
/// Which of the two formats a weight file is, by its extension, and the reader for it
/// (<see cref="PyTorchWeightFile"/>, <see cref="SafetensorsWeightFile"/>). TorchSharp.PyBridge does the
/// (un)pickling; the readers add what it lacks: errors that name the path and the expected format for a missing,
/// truncated or corrupt file, and checkpoint unwrapping.
/// </summary>
internal static class WeightFiles
{
    const string PyTorchExtensions = ".pt, .pth, .bin, .ckpt, .tar";

    public static WeightFormat FormatOf(string path)
    {
        string extension = Path.GetExtension(path).ToLowerInvariant();
        return extension switch
        {
            ".pt" or ".pth" or ".bin" or ".ckpt" or ".tar" => WeightFormat.PyTorch,
            ".safetensors" => WeightFormat.Safetensors,
            _ => throw new InvalidChoiceException(
                $"'{path}': unknown weight file extension '{extension}'; expected {PyTorchExtensions} " +
                "(PyTorch zip checkpoint from torch.save) or .safetensors"),
        };
    }

    /// <summary>The tensors of the file in file order (pickles: hash order), before key mapping.</summary>
    public static Dictionary<string, Tensor> Read(string path, IReadOnlyList<string> containers)
    {
        var format = FormatOf(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"weights file not found: '{Path.GetFullPath(path)}'", path);
        return format == WeightFormat.PyTorch ? PyTorchWeightFile.Read(path, containers) : SafetensorsWeightFile.Read(path);
    }
}
