using System.Text.Json;
using System.Text.Json.Serialization;
using Cnn.Training.Training;
using TorchSharp;

namespace Cnn.Tests.Training;

/// <summary>
/// Writes a checkpoint in version 1 of the format (before checksums), so that the reader's compatibility path is
/// tested: the string "CNNZOO-CKPT" and the int 1 as BinaryWriter writes them, the info as JSON (named floating-point
/// literals allowed), the model's TorchSharp state dict, a false "has optimizer" flag, then the torch RNG state as a
/// length-prefixed byte array. (Checked byte for byte against the version-1 writer when the format changed.)
/// </summary>
internal static class LegacyCheckpoint
{
    public static void WriteVersion1(string path, torch.nn.Module model, CheckpointInfo info)
    {
        using var stream = File.Create(path);
        using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8);
        writer.Write("CNNZOO-CKPT");
        writer.Write(1);
        writer.Write(JsonSerializer.Serialize(info, new JsonSerializerOptions { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals }));
        model.save(writer);
        writer.Write(false);
        using var rng = torch.get_rng_state();
        byte[] state = rng.data<byte>().ToArray();
        writer.Write(state.Length);
        writer.Write(state);
    }
}
