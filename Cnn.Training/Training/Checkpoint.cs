using System.Text.Json;
using System.Text.Json.Serialization;
using Cnn.Zoo.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Training.Training;

/// <summary>What a checkpoint records besides tensors: enough to rebuild the model and continue training exactly.</summary>
public sealed record CheckpointInfo
{
    public required string Model { get; init; }
    public required int NumClasses { get; init; }
    public Dictionary<string, string> ModelOptions { get; init; } = [];
    public IReadOnlyList<string> Classes { get; init; } = [];
    /// <summary>Completed epochs.</summary>
    public int Epoch { get; init; }
    /// <summary>Optimizer steps taken (the learning-rate schedule is a function of it).</summary>
    public int Step { get; init; }
    /// <summary>Batches of <see cref="Epoch"/> + 1 already trained when a run was interrupted mid-epoch.</summary>
    public int BatchInEpoch { get; init; }
    public double BestMetric { get; init; } = double.NegativeInfinity;
    public int EpochsWithoutImprovement { get; init; }
    public Dictionary<string, double> Metrics { get; init; } = [];
    public long[] InputShape { get; init; } = [];
    public float[] Mean { get; init; } = [];
    public float[] Std { get; init; } = [];
}

/// <summary>
/// One file holding model weights, optimizer state, the torch RNG state and <see cref="CheckpointInfo"/>, written
/// atomically. Layout: magic, version, JSON info, TorchSharp state dict, optimizer state (optional), RNG state.
/// </summary>
public static class Checkpoint
{
    const string Magic = "CNNZOO-CKPT";
    const int Version = 1;

    /// <summary>Metrics may be NaN or infinite (a best metric before the first epoch).</summary>
    static readonly JsonSerializerOptions Json = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public static void Save(string path, nn.Module model, optim.Optimizer? optimizer, CheckpointInfo info)
    {
        AtomicFile.Write(path, stream =>
        {
            using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            writer.Write(Magic);
            writer.Write(Version);
            writer.Write(JsonSerializer.Serialize(info, Json));
            model.save(writer);
            writer.Write(optimizer is not null);
            if (optimizer is not null) ((TorchSharp.Modules.OptimizerHelper)optimizer).save_state_dict(writer);
            using var rng = torch.get_rng_state();
            byte[] state = rng.data<byte>().ToArray();
            writer.Write(state.Length);
            writer.Write(state);
        });
    }

    /// <summary>Reads only the info (to rebuild the model before loading its weights).</summary>
    public static CheckpointInfo ReadInfo(string path)
    {
        using var reader = Open(path);
        return ReadHeader(reader, path);
    }

    /// <summary>Loads weights (and optimizer and RNG state when given) into an already-built model.</summary>
    public static CheckpointInfo Load(string path, nn.Module model, optim.Optimizer? optimizer = null, bool restoreRng = false)
    {
        using var reader = Open(path);
        var info = ReadHeader(reader, path);
        try
        {
            model.load(reader, strict: true);
            bool hasOptimizer = reader.ReadBoolean();
            if (hasOptimizer && optimizer is not null) ((TorchSharp.Modules.OptimizerHelper)optimizer).load_state_dict(reader);
            else if (hasOptimizer && restoreRng)
                throw new InvalidDataException($"{path}: resuming needs the optimizer state, but no optimizer was given");
            if (restoreRng && hasOptimizer)
            {
                int length = reader.ReadInt32();
                using var state = torch.tensor(reader.ReadBytes(length), dtype: ScalarType.Byte);
                torch.set_rng_state(state);
            }
        }
        catch (Exception e) when (e is EndOfStreamException or ArgumentException or InvalidOperationException)
        {
            throw new InvalidDataException($"{path}: the checkpoint is truncated or does not match model '{info.Model}': {e.Message}", e);
        }
        return info;
    }

    static BinaryReader Open(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"checkpoint not found: {path}", path);
        return new BinaryReader(File.OpenRead(path), System.Text.Encoding.UTF8);
    }

    static CheckpointInfo ReadHeader(BinaryReader reader, string path)
    {
        try
        {
            string magic = reader.ReadString();
            if (magic != Magic) throw new InvalidDataException($"{path}: not a Cnn.Zoo checkpoint (expected '{Magic}', found '{magic}')");
            int version = reader.ReadInt32();
            if (version != Version) throw new InvalidDataException($"{path}: checkpoint version {version}; this build reads version {Version}");
            return JsonSerializer.Deserialize<CheckpointInfo>(reader.ReadString(), Json)
                   ?? throw new InvalidDataException($"{path}: empty checkpoint header");
        }
        catch (Exception e) when (e is EndOfStreamException or JsonException)
        {
            throw new InvalidDataException($"{path}: not a readable Cnn.Zoo checkpoint ({e.Message})", e);
        }
    }
}
