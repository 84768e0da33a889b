using System.Buffers.Binary;
using System.Text;

namespace Cnn.Transfer;

/// <summary>
/// Refuses a pickle that names anything but the data types a state dict is made of, before it is unpickled, as
/// <c>torch.load(weights_only=True)</c> does. A pickle is a program: <c>GLOBAL posix system</c> followed by
/// <c>REDUCE</c> runs a shell command when Python loads the file. Our unpickler (Razorvine, in .NET) would not run it,
/// but such a file is not a weights file, and saying so beats building a placeholder for it.
/// <para>The check walks every opcode (protocols 0 to 5) and collects the globals that <c>GLOBAL</c>, <c>INST</c> and
/// <c>STACK_GLOBAL</c> import. A damaged pickle (unknown opcode, argument past the end, no <c>STOP</c>) is refused too,
/// with the byte offset.</para>
/// </summary>
internal static class PickleGuard
{
    /// <summary>The (module, name) pairs a state dict may import, besides the families <see cref="IsAllowed"/> accepts by pattern.</summary>
    static readonly HashSet<(string Module, string Name)> Allowed =
    [
        ("collections", "OrderedDict"), ("collections", "defaultdict"), ("collections", "Counter"), ("collections", "deque"),
        ("torch", "Size"), ("torch", "device"), ("torch", "dtype"), ("torch", "strided"), ("torch", "Tensor"),
        ("torch.nn.parameter", "Parameter"), ("torch.serialization", "_get_layout"),
        ("_codecs", "encode"),                       // how protocol 2 pickles bytes
        ("copyreg", "_reconstructor"), ("copy_reg", "_reconstructor"),
        ("argparse", "Namespace"),                   // the training arguments torchvision's reference scripts save
        ("numpy", "dtype"), ("numpy", "ndarray"),
        ("numpy.core.multiarray", "scalar"), ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "scalar"), ("numpy._core.multiarray", "_reconstruct"),
        ("builtins", "set"), ("builtins", "frozenset"), ("builtins", "bytearray"), ("builtins", "slice"), ("builtins", "complex"),
        ("__builtin__", "set"), ("__builtin__", "frozenset"), ("__builtin__", "bytearray"), ("__builtin__", "slice"), ("__builtin__", "complex"),
    ];

    static readonly HashSet<string> TorchDtypes =
    [
        "float32", "float", "float64", "double", "float16", "half", "bfloat16", "int64", "long", "int32", "int", "int16",
        "short", "int8", "uint8", "bool", "complex64", "complex128", "cfloat", "cdouble",
    ];

    static bool IsAllowed(string module, string name) =>
        Allowed.Contains((module, name))
        || (module == "torch._utils" && name.StartsWith("_rebuild_", StringComparison.Ordinal))      // tensor reconstruction
        || (module is "torch" or "torch.storage" && name.EndsWith("Storage", StringComparison.Ordinal)) // FloatStorage, ...
        || (module == "torch" && TorchDtypes.Contains(name));

    /// <summary>Throws <see cref="InvalidDataException"/> naming <paramref name="path"/> unless the pickle only names allowed globals.</summary>
    public static void Check(ReadOnlySpan<byte> pickle, string path, string entry)
    {
        string where = $"'{path}' ({entry})";
        var refused = new List<string>();
        // The strings last pushed, for STACK_GLOBAL (module, name); memo holds the strings PUT/MEMOIZE stored.
        var recent = new List<string?>();
        var memo = new Dictionary<long, string?>();
        int memoCount = 0;
        int at = 0;
        while (true)
        {
            if (at >= pickle.Length)
                throw Damaged(where, at, "ends without a STOP opcode (truncated)");
            int opAt = at;
            byte op = pickle[at++];
            string? pushed = null;   // a string this opcode pushes
            bool neutral = false;    // leaves the stack's top as it was (memo and framing opcodes)
            switch (op)
            {
                case (byte)'.': // STOP
                    if (refused.Count > 0)
                        throw new InvalidDataException(
                            $"{where} refused: its pickle imports {string.Join(", ", refused.Distinct())}, which a weights file has no use for " +
                            "(when Python loads such a file it runs that code); only torch tensors, storages, dtypes, collections, numpy " +
                            "scalars and plain containers are allowed, as torch.load(weights_only=True) does. " +
                            "Do not use this file; get the weights from a source you trust, saved with torch.save(model.state_dict()).");
                    return;
                case (byte)'c': // GLOBAL module\nname\n
                case (byte)'i': // INST module\nname\n
                {
                    string module = Line(pickle, ref at, where, opAt), name = Line(pickle, ref at, where, opAt);
                    if (!IsAllowed(module, name)) refused.Add($"{module}.{name}");
                    break;
                }
                case 0x93: // STACK_GLOBAL
                {
                    if (recent.Count < 2 || recent[^2] is not string module || recent[^1] is not string name)
                    {
                        refused.Add($"a global whose name is computed at byte {opAt}");
                        break;
                    }
                    if (!IsAllowed(module, name)) refused.Add($"{module}.{name}");
                    break;
                }
                case 0x82: case 0x83: case 0x84: // EXT1, EXT2, EXT4: objects from Python's extension registry
                    at += op == 0x82 ? 1 : op == 0x83 ? 2 : 4;
                    refused.Add($"extension-registry code {op - 0x81}");
                    break;
                // Opcodes with a newline-terminated argument.
                case (byte)'S': case (byte)'V': // STRING, UNICODE
                    pushed = Line(pickle, ref at, where, opAt).Trim('\'', '"');
                    break;
                case (byte)'F': case (byte)'I': case (byte)'L': case (byte)'P':
                    Line(pickle, ref at, where, opAt);
                    break;
                case (byte)'g': // GET n\n
                    pushed = memo.GetValueOrDefault(ParseLong(Line(pickle, ref at, where, opAt), where, opAt));
                    break;
                case (byte)'p': // PUT n\n
                    memo[ParseLong(Line(pickle, ref at, where, opAt), where, opAt)] = recent.Count > 0 ? recent[^1] : null;
                    neutral = true;
                    break;
                // Opcodes with a fixed-size argument.
                case (byte)'h': pushed = memo.GetValueOrDefault(Fixed(pickle, ref at, 1, where, opAt)); break;          // BINGET
                case (byte)'j': pushed = memo.GetValueOrDefault(Fixed(pickle, ref at, 4, where, opAt)); break;          // LONG_BINGET
                case (byte)'q': memo[Fixed(pickle, ref at, 1, where, opAt)] = Top(recent); neutral = true; break;      // BINPUT
                case (byte)'r': memo[Fixed(pickle, ref at, 4, where, opAt)] = Top(recent); neutral = true; break;      // LONG_BINPUT
                case 0x94: memo[memoCount] = Top(recent); neutral = true; break;                                       // MEMOIZE
                case 0x95: Fixed(pickle, ref at, 8, where, opAt); neutral = true; break;                               // FRAME
                case 0x80: Fixed(pickle, ref at, 1, where, opAt); neutral = true; break;                               // PROTO
                case (byte)'J': Fixed(pickle, ref at, 4, where, opAt); break;                                          // BININT
                case (byte)'K': Fixed(pickle, ref at, 1, where, opAt); break;                                          // BININT1
                case (byte)'M': Fixed(pickle, ref at, 2, where, opAt); break;                                          // BININT2
                case (byte)'G': Fixed(pickle, ref at, 8, where, opAt); break;                                          // BINFLOAT
                // Opcodes with a length-prefixed argument.
                case 0x8c: pushed = Text(Counted(pickle, ref at, 1, where, opAt)); break;                              // SHORT_BINUNICODE
                case (byte)'X': pushed = Text(Counted(pickle, ref at, 4, where, opAt)); break;                         // BINUNICODE
                case 0x8d: pushed = Text(Counted(pickle, ref at, 8, where, opAt)); break;                              // BINUNICODE8
                case (byte)'U': pushed = Text(Counted(pickle, ref at, 1, where, opAt)); break;                         // SHORT_BINSTRING
                case (byte)'T': pushed = Text(Counted(pickle, ref at, 4, where, opAt)); break;                         // BINSTRING
                case (byte)'C': case 0x8a: Counted(pickle, ref at, 1, where, opAt); break;                             // SHORT_BINBYTES, LONG1
                case (byte)'B': case 0x8b: Counted(pickle, ref at, 4, where, opAt); break;                             // BINBYTES, LONG4
                case 0x8e: case 0x96: Counted(pickle, ref at, 8, where, opAt); break;                                  // BINBYTES8, BYTEARRAY8
                // Opcodes without an argument.
                case (byte)'(': case (byte)'0': case (byte)'1': case (byte)'2': case (byte)'N': case (byte)'Q':
                case (byte)'R': case (byte)'a': case (byte)'b': case (byte)'d': case (byte)'}': case (byte)'e':
                case (byte)'l': case (byte)']': case (byte)'o': case (byte)'s': case (byte)'t': case (byte)')':
                case (byte)'u': case 0x81: case 0x85: case 0x86: case 0x87: case 0x88: case 0x89: case 0x8f:
                case 0x90: case 0x91: case 0x92: case 0x97: case 0x98:
                    break;
                default:
                    throw Damaged(where, opAt, $"has an unknown opcode 0x{op:X2}");
            }
            if (op == 0x94) memoCount++;
            if (!neutral)
            {
                recent.Add(pushed);
                if (recent.Count > 2) recent.RemoveAt(0);
            }
        }
    }

    static string? Top(List<string?> recent) => recent.Count > 0 ? recent[^1] : null;

    static InvalidDataException Damaged(string where, int at, string what) =>
        new($"{where} is damaged: its pickle {what} at byte {at}; expected a file written by torch.save. Download or copy it again");

    static string Line(ReadOnlySpan<byte> pickle, ref int at, string where, int opAt)
    {
        int end = pickle[at..].IndexOf((byte)'\n');
        if (end < 0) throw Damaged(where, opAt, "has an argument that runs past the end");
        string text = Encoding.UTF8.GetString(pickle.Slice(at, end));
        at += end + 1;
        return text;
    }

    static long Fixed(ReadOnlySpan<byte> pickle, ref int at, int size, string where, int opAt)
    {
        if (pickle.Length - at < size) throw Damaged(where, opAt, "has an argument that runs past the end");
        var bytes = pickle.Slice(at, size);
        at += size;
        return size switch
        {
            1 => bytes[0],
            2 => BinaryPrimitives.ReadUInt16LittleEndian(bytes),
            4 => BinaryPrimitives.ReadUInt32LittleEndian(bytes),
            _ => BinaryPrimitives.ReadInt64LittleEndian(bytes),
        };
    }

    static ReadOnlySpan<byte> Counted(ReadOnlySpan<byte> pickle, ref int at, int lengthSize, string where, int opAt)
    {
        long length = Fixed(pickle, ref at, lengthSize, where, opAt);
        if (length < 0 || length > pickle.Length - at) throw Damaged(where, opAt, $"has a {length}-byte argument that runs past the end");
        var value = pickle.Slice(at, (int)length);
        at += (int)length;
        return value;
    }

    static long ParseLong(string text, string where, int opAt) =>
        long.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out long value)
            ? value
            : throw Damaged(where, opAt, $"has a memo index '{text}' that is not a number");

    static string Text(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes);
}
