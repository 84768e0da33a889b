using System.Buffers.Binary;
using System.Text;
using static TorchSharp.torch;

namespace Cnn.Transfer;

/// <summary>
/// The <c>data.pkl</c> that <c>torch.save(state_dict)</c> writes, opcode by opcode (pickle protocol 2): an
/// <c>OrderedDict</c> of key to <c>torch._utils._rebuild_tensor_v2(storage, 0, size, stride, False, OrderedDict())</c>,
/// each storage a persistent id <c>('storage', torch.FloatStorage, 'i', 'cpu', numel)</c> that names the archive entry
/// <c>data/i</c>. PyTorch's own pickler adds memo opcodes and a per-module <c>_metadata</c> attribute, which
/// <c>load_state_dict</c> does not need.
/// </summary>
internal static class StateDictPickle
{
    // Pickle opcodes (Python's Lib/pickle.py).
    const byte Proto = 0x80, Global = (byte)'c', EmptyTuple = (byte)')', Reduce = (byte)'R', Mark = (byte)'(',
               BinUnicode = (byte)'X', BinInt = (byte)'J', Long1 = 0x8a, Tuple = (byte)'t', NewFalse = 0x89,
               BinPersId = (byte)'Q', SetItems = (byte)'u', Stop = (byte)'.';

    /// <summary>The pickle for tensors stored, in this order, as the entries <c>data/0</c>, <c>data/1</c>, ...: each
    /// a contiguous tensor of <paramref name="tensors"/>' type and shape.</summary>
    public static byte[] Write(IReadOnlyList<(string Key, ScalarType Type, long[] Shape)> tensors)
    {
        using var output = new MemoryStream();
        output.WriteByte(Proto);
        output.WriteByte(2);
        EmptyOrderedDict(output);
        output.WriteByte(Mark);
        for (int i = 0; i < tensors.Count; i++)
        {
            var (key, type, shape) = tensors[i];
            Text(output, key);
            GlobalName(output, "torch._utils", "_rebuild_tensor_v2");
            output.WriteByte(Mark);
            // The storage, by persistent id: ('storage', torch.<Type>Storage, entry, location, numel).
            output.WriteByte(Mark);
            Text(output, "storage");
            GlobalName(output, "torch", StorageName(type));
            Text(output, i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Text(output, "cpu");
            Integer(output, shape.Aggregate(1L, (a, b) => a * b));
            output.WriteByte(Tuple);
            output.WriteByte(BinPersId);
            Integer(output, 0);   // storage offset
            Integers(output, shape);
            Integers(output, ContiguousStrides(shape));
            output.WriteByte(NewFalse);   // requires_grad
            EmptyOrderedDict(output);     // backward hooks
            output.WriteByte(Tuple);
            output.WriteByte(Reduce);
        }
        output.WriteByte(SetItems);
        output.WriteByte(Stop);
        return output.ToArray();
    }

    /// <summary>torch's storage class for a dtype, as PyTorch 1.x and 2.x name it in checkpoints.</summary>
    static string StorageName(ScalarType type) => type switch
    {
        ScalarType.Float32 => "FloatStorage",
        ScalarType.Float64 => "DoubleStorage",
        ScalarType.Float16 => "HalfStorage",
        ScalarType.BFloat16 => "BFloat16Storage",
        ScalarType.Int64 => "LongStorage",
        ScalarType.Int32 => "IntStorage",
        ScalarType.Int16 => "ShortStorage",
        ScalarType.Int8 => "CharStorage",
        ScalarType.Byte => "ByteStorage",
        ScalarType.Bool => "BoolStorage",
        _ => throw new NotSupportedException($"a {type} tensor has no PyTorch storage class this writer knows"),
    };

    static long[] ContiguousStrides(long[] shape)
    {
        var strides = new long[shape.Length];
        long stride = 1;
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            strides[d] = stride;
            stride *= Math.Max(1, shape[d]);
        }
        return strides;
    }

    static void EmptyOrderedDict(Stream output)
    {
        GlobalName(output, "collections", "OrderedDict");
        output.WriteByte(EmptyTuple);
        output.WriteByte(Reduce);
    }

    static void GlobalName(Stream output, string module, string name)
    {
        output.WriteByte(Global);
        output.Write(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));
    }

    static void Text(Stream output, string value)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(value);
        output.WriteByte(BinUnicode);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, bytes.Length);
        output.Write(length);
        output.Write(bytes);
    }

    static void Integers(Stream output, long[] values)
    {
        output.WriteByte(Mark);
        foreach (long value in values) Integer(output, value);
        output.WriteByte(Tuple);
    }

    /// <summary>BININT (4-byte signed) when it fits, LONG1 (little-endian two's complement) otherwise.</summary>
    static void Integer(Stream output, long value)
    {
        Span<byte> bytes = stackalloc byte[8];
        if (value is >= int.MinValue and <= int.MaxValue)
        {
            output.WriteByte(BinInt);
            BinaryPrimitives.WriteInt32LittleEndian(bytes, (int)value);
            output.Write(bytes[..4]);
            return;
        }
        output.WriteByte(Long1);
        output.WriteByte(8);
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        output.Write(bytes);
    }
}
