using Cnn.Zoo;
using System.Buffers.Binary;
using System.Collections;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Razorvine.Pickle;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Cnn.Transfer;

/// <summary>The two file formats PyTorch users exchange weights in.</summary>
internal enum WeightFormat
{
    /// <summary>torch.save's zip archive holding a pickle (<c>.pt</c>, <c>.pth</c>, <c>.bin</c>, ...).</summary>
    PyTorch,
    /// <summary>Hugging Face's safetensors: 8-byte header length, JSON header, raw little-endian data.</summary>
    Safetensors,
}

/// <summary>
/// Reading and writing weight files. TorchSharp.PyBridge does the (un)pickling; this class adds what it lacks:
/// checks that turn a missing, truncated or corrupt file into an error naming the path and the expected format,
/// checkpoint unwrapping, and a safetensors writer whose header carries <c>{"format": "pt"}</c> metadata and is
/// padded to 8 bytes as the reference implementation does (PyBridge 1.4.4 writes neither, and transformers refuses
/// safetensors without the format entry).
/// </summary>
internal static class WeightFiles
{
    const string PyTorchExtensions = ".pt, .pth, .bin, .ckpt, .tar";

    static WeightFiles()
    {
        // Training checkpoints often carry numpy values next to the weights (best_acc1 = np.float64(...), arrays in a
        // scheduler's state). PyBridge's unpickler cannot build them and fails the whole file, although only the
        // state dict is wanted; these constructors turn them into inert placeholders (numpy 1.x and 2.x names).
        foreach (var module in new[] { "numpy.core.multiarray", "numpy._core.multiarray" })
        {
            Unpickler.registerConstructor(module, "scalar", new PythonPlaceholder());
            Unpickler.registerConstructor(module, "_reconstruct", new PythonPlaceholder());
        }
        Unpickler.registerConstructor("numpy", "dtype", new PythonPlaceholder());
        Unpickler.registerConstructor("numpy", "ndarray", new PythonPlaceholder());
    }

    /// <summary>A Python object the unpickler may build and discard (never part of a state dict).</summary>
    sealed class PythonPlaceholder : IObjectConstructor
    {
        public object construct(object[] args) => this;

        // Called by the unpickler's BUILD opcode with the object's state, which is not needed.
        [System.Diagnostics.CodeAnalysis.SuppressMessage("Style", "IDE1006", Justification = "Python protocol name")]
        public void __setstate__(object state) => _ = state;
    }

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
        return format == WeightFormat.PyTorch ? ReadPyTorch(path, containers) : ReadSafetensors(path);
    }

    // ---------------------------------------------------------------- PyTorch zip pickles

    static Dictionary<string, Tensor> ReadPyTorch(string path, IReadOnlyList<string> containers)
    {
        const string expected = "a PyTorch checkpoint written by torch.save (a zip archive holding data.pkl)";
        using (var probe = File.OpenRead(path))
        {
            Span<byte> signature = stackalloc byte[4];
            int read = probe.ReadAtLeast(signature, 4, throwOnEndOfStream: false);
            if (read < 4 || signature[0] != 0x50 || signature[1] != 0x4b || signature[2] != 0x03 || signature[3] != 0x04)
                throw new InvalidDataException(
                    $"'{path}' is not {expected}: it does not start with a zip signature ({probe.Length} bytes). " +
                    "Files from PyTorch < 1.6 or saved with _use_new_zipfile_serialization=False must be re-saved with a current torch.save.");
            byte[]? pickle;
            string entryName = "data.pkl";
            try
            {
                probe.Position = 0;
                using var archive = new ZipArchive(probe, ZipArchiveMode.Read, leaveOpen: true);
                var entry = archive.Entries.FirstOrDefault(e => e.FullName.EndsWith("data.pkl", StringComparison.Ordinal));
                pickle = entry is null ? null : ReadEntry(entry);
                entryName = entry?.FullName ?? entryName;
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"'{path}' is truncated or corrupt, expected {expected}: {e.Message}", e);
            }
            if (pickle is null)
                throw new InvalidDataException($"'{path}' is a zip archive but not {expected}: it has no data.pkl");
            // Before anything is unpickled: a pickle that imports code (os.system, eval, ...) is refused here.
            PickleGuard.Check(pickle, path, entryName);
        }

        Hashtable root;
        try
        {
            using var stream = File.OpenRead(path);
            root = PyTorchUnpickler.UnpickleStateDict(stream, leaveOpen: true);
        }
        catch (Exception e)
        {
            throw new InvalidDataException($"'{path}' could not be read as {expected}: {e.Message}", e);
        }
        try
        {
            return Unwrap(root, containers, path);
        }
        catch
        {
            DisposeAll(root, keep: null);
            throw;
        }
    }

    static byte[] ReadEntry(ZipArchiveEntry entry)
    {
        using var stream = entry.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>
    /// Descends through checkpoint containers until a dictionary holding tensors is found; tensors elsewhere in the
    /// checkpoint (optimizer state, EMA copies) are disposed.
    /// </summary>
    static Dictionary<string, Tensor> Unwrap(IDictionary root, IReadOnlyList<string> containers, string path)
    {
        var current = root;
        var trail = new List<string>();
        while (true)
        {
            var tensors = new Dictionary<string, Tensor>();
            foreach (DictionaryEntry entry in current)
            {
                if (entry.Value is Tensor t) tensors[entry.Key.ToString() ?? ""] = t;
            }
            if (tensors.Count > 0)
            {
                DisposeAll(root, keep: new HashSet<Tensor>(tensors.Values, ReferenceEqualityComparer.Instance));
                return tensors;
            }
            string? next = containers.FirstOrDefault(c => current.Contains(c) && current[c] is IDictionary);
            if (next is null)
            {
                string where = trail.Count == 0 ? "at the top level" : $"under '{string.Join("' / '", trail)}'";
                string keys = current.Count == 0 ? "none" : string.Join(", ", current.Keys.Cast<object>().Select(k => $"'{k}'"));
                string tried = containers.Count == 0 ? "no containers (KeyMapping.None)" : "containers " + string.Join(", ", containers.Select(c => $"'{c}'"));
                throw new InvalidDataException(
                    $"'{path}' holds no tensors {where} (keys: {keys}); looked for {tried}. " +
                    "Pass a KeyMapping whose Containers name the entry that holds the state dict (KeyMapping.Default.WithContainer(...)).");
            }
            trail.Add(next);
            current = (IDictionary)current[next]!;
        }
    }

    static void DisposeAll(object? node, HashSet<Tensor>? keep)
    {
        switch (node)
        {
            case Tensor t when keep is null || !keep.Contains(t):
                t.Dispose();
                break;
            case IDictionary d:
                foreach (DictionaryEntry e in d) DisposeAll(e.Value, keep);
                break;
            case IEnumerable items and not string:
                foreach (var item in items) DisposeAll(item, keep);
                break;
        }
    }

    public static void WritePyTorch(Stream stream, IReadOnlyList<(string Key, Tensor Value)> tensors)
    {
        // A Dictionary pickles as a Python dict, which keeps insertion order: the file's key order is the model's.
        var dict = new Dictionary<string, Tensor>(tensors.Count);
        foreach (var (key, value) in tensors) dict.Add(key, value);
        PyTorchPickler.PickleStateDict(stream, dict, leaveOpen: true);
    }

    // ---------------------------------------------------------------- safetensors

    static readonly Dictionary<string, (ScalarType Type, int Size)> SafetensorsTypes = new()
    {
        ["F64"] = (ScalarType.Float64, 8),
        ["F32"] = (ScalarType.Float32, 4),
        ["F16"] = (ScalarType.Float16, 2),
        ["BF16"] = (ScalarType.BFloat16, 2),
        ["I64"] = (ScalarType.Int64, 8),
        ["I32"] = (ScalarType.Int32, 4),
        ["I16"] = (ScalarType.Int16, 2),
        ["I8"] = (ScalarType.Int8, 1),
        ["U8"] = (ScalarType.Byte, 1),
        ["BOOL"] = (ScalarType.Bool, 1),
    };

    static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    static Dictionary<string, Tensor> ReadSafetensors(string path)
    {
        ValidateSafetensors(path);
        try
        {
            return Safetensors.LoadStateDict(path);
        }
        catch (Exception e)
        {
            throw new InvalidDataException($"'{path}' could not be read as safetensors: {e.Message}", e);
        }
    }

    /// <summary>
    /// Checks the header and that every tensor's bytes lie inside the file, so a truncated download fails here
    /// with the path and the sizes instead of deep inside a reader.
    /// </summary>
    static void ValidateSafetensors(string path)
    {
        const string expected = "expected safetensors (8-byte little-endian header length, JSON header, tensor data)";
        using var stream = File.OpenRead(path);
        long length = stream.Length;
        if (length < 8)
            throw new InvalidDataException($"'{path}' is too short ({length} bytes) to be a safetensors file; {expected}");
        Span<byte> prefix = stackalloc byte[8];
        stream.ReadExactly(prefix);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > (ulong)(length - 8))
            throw new InvalidDataException(
                $"'{path}' is truncated or not safetensors: the header claims {headerLength} bytes but only {length - 8} follow; {expected}");
        var header = new byte[headerLength];
        stream.ReadExactly(header);
        long dataLength = length - 8 - (long)headerLength;

        JsonDocument document;
        try
        {
            // JsonDocument accepts invalid UTF-8 inside strings and fails only when a name is read; check it all first.
            _ = StrictUtf8.GetCharCount(header);
            document = JsonDocument.Parse(header);
        }
        catch (Exception e) when (e is JsonException or DecoderFallbackException)
        {
            throw new InvalidDataException($"'{path}' has a corrupt safetensors header (not valid UTF-8 JSON: {e.Message}); {expected}", e);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"'{path}' has a safetensors header that is not a JSON object; {expected}");
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__") continue;
                string problem = CheckEntry(property.Value, dataLength);
                if (problem.Length > 0)
                    throw new InvalidDataException($"'{path}': tensor '{property.Name}' {problem}");
            }
        }
    }

    static string CheckEntry(JsonElement entry, long dataLength)
    {
        if (entry.ValueKind != JsonValueKind.Object
            || !entry.TryGetProperty("dtype", out var dtype) || dtype.ValueKind != JsonValueKind.String
            || !entry.TryGetProperty("shape", out var shape) || shape.ValueKind != JsonValueKind.Array
            || !entry.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array
            || offsets.GetArrayLength() != 2)
            return "has a malformed header entry (expected dtype, shape and data_offsets)";
        if (!SafetensorsTypes.TryGetValue(dtype.GetString()!, out var type))
            return $"has unsupported dtype '{dtype.GetString()}' (supported: {string.Join(", ", SafetensorsTypes.Keys)})";
        long elements = 1;
        foreach (var d in shape.EnumerateArray())
        {
            if (!d.TryGetInt64(out long size) || size < 0) return "has a malformed shape";
            elements *= size;
        }
        if (!offsets[0].TryGetInt64(out long begin) || !offsets[1].TryGetInt64(out long end) || begin < 0 || end < begin)
            return "has malformed data_offsets";
        if (end - begin != elements * type.Size)
            return $"occupies {end - begin} bytes but its dtype and shape need {elements * type.Size}";
        if (end > dataLength)
            return $"ends at byte {end} of the data but the file holds only {dataLength}: the file is truncated";
        return "";
    }

    public static void WriteSafetensors(Stream stream, IReadOnlyList<(string Key, Tensor Value)> tensors)
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("safetensors stores little-endian data; this machine is big-endian");
        var names = SafetensorsTypes.ToDictionary(kv => kv.Value.Type, kv => kv.Key);
        using var headerBuffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(headerBuffer))
        {
            json.WriteStartObject();
            json.WriteStartObject("__metadata__");
            json.WriteString("format", "pt");
            json.WriteEndObject();
            long offset = 0;
            foreach (var (key, value) in tensors)
            {
                if (!names.TryGetValue(value.dtype, out var dtype))
                    throw new NotSupportedException($"safetensors cannot store '{key}' of dtype {value.dtype}");
                long bytes = value.numel() * value.ElementSize;
                json.WriteStartObject(key);
                json.WriteString("dtype", dtype);
                json.WriteStartArray("shape");
                foreach (long d in value.shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + bytes);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += bytes;
            }
            json.WriteEndObject();
        }
        // The reference writer pads the header with spaces so the data starts 8-byte aligned.
        while (headerBuffer.Length % 8 != 0) headerBuffer.WriteByte((byte)' ');

        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)headerBuffer.Length);
        stream.Write(prefix);
        headerBuffer.Position = 0;
        headerBuffer.CopyTo(stream);
        foreach (var (_, value) in tensors) stream.Write(value.bytes);
    }
}
