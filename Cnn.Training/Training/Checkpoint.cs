using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Cnn.Zoo.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Training.Training;

/// <summary>
/// One file holding model weights, optimizer state, the torch RNG state and <see cref="CheckpointInfo"/>, written
/// atomically (<see cref="AtomicFile"/>) and checked on every read.
/// <para>Layout, version 2: the string <c>CNNZOO-CKPT-SHA256</c> and the int 2 (as <see cref="BinaryWriter"/> writes
/// them), the info as JSON, the TorchSharp state dict, a has-optimizer flag and the optimizer state, the RNG state as a
/// length-prefixed byte array, then the SHA-256 of every byte before it (32 bytes). Every read, <see cref="ReadInfo"/>
/// included, first hashes the whole file, so a truncated or bit-flipped checkpoint is refused by name even when the
/// part a reader needs would still parse.</para>
/// <para>Version 1 (before checksums): the string <c>CNNZOO-CKPT</c> and the int 1, then the same payload without
/// the hash. Such files still load. No single damaged byte turns a version-2 file into a version-1 one: the magic
/// strings differ in length, and the bytes after the shorter one ("-SHA") do not read as version 1.</para>
/// </summary>
public static class Checkpoint
{
    const string Magic = "CNNZOO-CKPT-SHA256";
    const int Version = 2;
    const string LegacyMagic = "CNNZOO-CKPT";
    const int LegacyVersion = 1;
    const int HashSize = SHA256.HashSizeInBytes;
    const string Remedy = "use another checkpoint of the run (last.ckpt or best.ckpt) or train again";

    /// <summary>Metrics may be NaN or infinite (a best metric before the first epoch).</summary>
    static readonly JsonSerializerOptions Json = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public static void Save(string path, nn.Module model, optim.Optimizer? optimizer, CheckpointInfo info)
    {
        AtomicFile.Write(path, stream =>
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            using (var hashing = new HashingStream(stream, hash))
            using (var writer = new BinaryWriter(hashing, System.Text.Encoding.UTF8, leaveOpen: true))
            {
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
            }
            stream.Write(hash.GetHashAndReset());
        });
    }

    /// <summary>Reads only the info (to rebuild the model before loading its weights); the whole file is verified first.</summary>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not a Cnn.Zoo checkpoint, or is damaged.</exception>
    public static CheckpointInfo ReadInfo(string path)
    {
        using var file = Open(path);
        return file.Info;
    }

    /// <summary>Loads weights (and optimizer and RNG state when given) into an already-built model.</summary>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not a Cnn.Zoo checkpoint, is damaged, or does not fit the model.</exception>
    public static CheckpointInfo Load(string path, nn.Module model, optim.Optimizer? optimizer = null, bool restoreRng = false)
    {
        using var file = Open(path);
        var (reader, info) = (file.Reader, file.Info);
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
        catch (Exception e) when (e is EndOfStreamException or ArgumentException or InvalidOperationException or FormatException
                                       or OverflowException or IOException or System.Runtime.InteropServices.ExternalException)
        {
            // With a checksum the bytes are as written, so the model is the wrong one; a version-1 file may also be cut short.
            string what = file.Checksummed ? "does not fit the model given" : "is truncated or does not fit the model given";
            throw new InvalidDataException(
                $"{path}: holds a '{info.Model}' checkpoint ({info.NumClasses} classes) that {what} ({e.Message}); " +
                "rebuild the model from Checkpoint.ReadInfo (model name, classes and options) before loading", e);
        }
        return info;
    }

    /// <summary>An open, verified checkpoint positioned after its info.</summary>
    sealed record OpenFile(BinaryReader Reader, CheckpointInfo Info, bool Checksummed) : IDisposable
    {
        public void Dispose() => Reader.Dispose();
    }

    static OpenFile Open(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"checkpoint not found: {path}", path);
        var reader = new BinaryReader(File.OpenRead(path), System.Text.Encoding.UTF8);
        try
        {
            bool checksummed = ReadMagic(reader, path);
            if (checksummed) Verify(reader.BaseStream, path);
            int version = reader.ReadInt32();
            int expected = checksummed ? Version : LegacyVersion;
            if (version != expected)
                throw new InvalidDataException(
                    $"{path}: a Cnn.Zoo checkpoint of format version {version}; this build reads versions {LegacyVersion} and {Version}. " +
                    "Load it with the build that wrote it");
            var info = JsonSerializer.Deserialize<CheckpointInfo>(reader.ReadString(), Json)
                       ?? throw new InvalidDataException($"{path}: the checkpoint's info is empty (JSON null); {Remedy}");
            return new OpenFile(reader, info, checksummed);
        }
        catch (Exception e) when (e is EndOfStreamException or JsonException or FormatException)
        {
            reader.Dispose();
            throw new InvalidDataException($"{path}: a damaged Cnn.Zoo checkpoint ({e.Message}); {Remedy}", e);
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }

    /// <summary>Reads the magic string; true for the checksummed format, false for version 1, else an error.</summary>
    static bool ReadMagic(BinaryReader reader, string path)
    {
        // Compared as raw bytes (a 7-bit length, then UTF-8), so garbage never becomes a huge string allocation.
        var head = new byte[1 + Magic.Length];
        int read = reader.BaseStream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        foreach (var (magic, checksummed) in new[] { (Magic, true), (LegacyMagic, false) })
        {
            if (read >= 1 + magic.Length && head[0] == magic.Length
                && head.AsSpan(1, magic.Length).SequenceEqual(System.Text.Encoding.ASCII.GetBytes(magic)))
            {
                reader.BaseStream.Position = 1 + magic.Length;
                return checksummed;
            }
        }
        throw new InvalidDataException(
            $"{path}: not a Cnn.Zoo checkpoint; expected it to start with '{Magic}' (or '{LegacyMagic}' before checksums), " +
            $"found {Describe(head.AsSpan(0, read))}. Pass a .ckpt written by train or finetune");
    }

    /// <summary>Hashes everything before the last 32 bytes and compares with them; restores the stream position.</summary>
    static void Verify(Stream stream, string path)
    {
        long position = stream.Position, length = stream.Length;
        if (length < position + HashSize)
            throw new InvalidDataException(
                $"{path}: truncated: a checksummed Cnn.Zoo checkpoint of only {length} bytes ends before its SHA-256; {Remedy}");
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        stream.Position = 0;
        var buffer = new byte[1 << 20];
        for (long left = length - HashSize; left > 0;)
        {
            int n = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
            if (n == 0) throw new EndOfStreamException();
            hash.AppendData(buffer, 0, n);
            left -= n;
        }
        byte[] stored = new byte[HashSize];
        stream.ReadExactly(stored);
        byte[] actual = hash.GetHashAndReset();
        if (!actual.AsSpan().SequenceEqual(stored))
            throw new InvalidDataException(
                $"{path}: damaged: the SHA-256 of its first {DataSize(length - HashSize)} does not match the one stored in its " +
                $"last {HashSize}: the file was truncated or changed after it was written; {Remedy}");
        stream.Position = position;
    }

    static string DataSize(long bytes) => bytes.ToString("N0", System.Globalization.CultureInfo.InvariantCulture) + " bytes";

    static string Describe(ReadOnlySpan<byte> head) =>
        head.Length == 0 ? "an empty file" : $"bytes {Convert.ToHexString(head[..Math.Min(head.Length, 12)])}";

    /// <summary>Passes writes through to a stream and hashes them on the way.</summary>
    sealed class HashingStream(Stream inner, IncrementalHash hash) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            hash.AppendData(buffer);
            inner.Write(buffer);
        }
    }
}
