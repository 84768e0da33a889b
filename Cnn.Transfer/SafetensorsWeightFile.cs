using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Cnn.Transfer;

/// <summary>
/// Hugging Face's safetensors (8-byte header length, JSON header, raw little-endian data): read with every header
/// entry checked against the file, written with <c>{"format": "pt"}</c> metadata and the header padded to 8 bytes as
/// the reference implementation does (PyBridge 1.4.4 writes neither, and transformers refuses a file without it).
/// </summary>
internal static class SafetensorsWeightFile
{
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

    public static Dictionary<string, Tensor> Read(string path)
    {
        Validate(path);
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
    static void Validate(string path)
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

    public static void Write(Stream stream, IReadOnlyList<(string Key, Tensor Value)> tensors)
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
