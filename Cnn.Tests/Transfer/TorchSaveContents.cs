using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Cnn.Tests.Transfer;

/// <summary>One tensor of a torch.save state dict, as the pickle describes it and the archive stores it.</summary>
/// <param name="Rebuild">The function PyTorch calls to rebuild it (<c>torch._utils._rebuild_tensor_v2</c>).</param>
/// <param name="Storage">The storage class (<c>torch.FloatStorage</c>), its location and element count.</param>
/// <param name="Hooks">The backward-hooks argument, written out (<c>collections.OrderedDict()</c>).</param>
/// <param name="Bytes">The storage's bytes, from the archive's <c>data/&lt;key&gt;</c> record.</param>
internal sealed record SavedTensor(string Key, string Rebuild, string Storage, long Offset, long[] Size, long[] Stride,
                                   bool RequiresGrad, string Hooks, byte[] Bytes);

/// <summary>
/// What a torch.save zip archive holds, decoded without TorchSharp.PyBridge (whose writer is under test): the record
/// names below the archive's root folder, and the state dict's tensors in pickle order. Only the pickle opcodes that
/// torch.save uses for a state dict are understood (protocol 2); anything else is an error that names the opcode.
/// </summary>
internal sealed class TorchSaveContents
{
    TorchSaveContents(IReadOnlyList<string> records, string version, IReadOnlyList<SavedTensor> tensors)
    {
        Records = records;
        Version = version;
        Tensors = tensors;
    }

    /// <summary>Record names relative to the root folder (which torch.save names after the file), sorted.</summary>
    public IReadOnlyList<string> Records { get; }

    /// <summary>The <c>version</c> record: the archive format version torch.load checks.</summary>
    public string Version { get; }

    public IReadOnlyList<SavedTensor> Tensors { get; }

    public static TorchSaveContents Read(string path)
    {
        using var zip = ZipFile.OpenRead(path);
        var roots = zip.Entries.Select(e => e.FullName.Split('/')[0]).Distinct().ToList();
        if (roots.Count != 1) throw new InvalidDataException($"{path}: expected one root folder, found {string.Join(", ", roots)}");
        string root = roots[0] + "/";
        byte[] Record(string name)
        {
            var entry = zip.GetEntry(root + name) ?? throw new InvalidDataException($"{path}: no record {root}{name}");
            using var stream = entry.Open();
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            return copy.ToArray();
        }

        var top = new Unpickler(Record("data.pkl")).Load();
        // A plain dict (what PyBridge writes) and an OrderedDict (what state_dict() returns) load alike. The
        // OrderedDict's _metadata (per-module state-dict versions) is not compared: with none, load_state_dict treats
        // every module as current-version-or-older, which only matters to BatchNorm files lacking num_batches_tracked.
        if (top is not PyDict dict) throw new InvalidDataException($"{path}: expected a dict at the top of data.pkl, found {Describe(top)}");
        var tensors = new List<SavedTensor>();
        foreach (var (key, value) in dict.Items)
        {
            if (key is not string name || value is not PyCall { Callable: var rebuild, Args: var args } || args.Length != 6
                || args[0] is not PyPersistent { Id: ["storage", PyGlobal storageType, string storageKey, string location, long elements] })
                throw new InvalidDataException($"{path}: entry {Describe(key)} is not a tensor: {Describe(value)}");
            tensors.Add(new SavedTensor(name, Describe(rebuild), $"{Describe(storageType)} on {location}, {elements} elements",
                                        (long)args[1]!, Longs(args[2]), Longs(args[3]), (bool)args[4]!, Describe(args[5]),
                                        Record("data/" + storageKey)));
        }
        var records = zip.Entries.Select(e => e.FullName[root.Length..]).Order(StringComparer.Ordinal).ToList();
        return new TorchSaveContents(records, Encoding.ASCII.GetString(Record("version")), tensors);
    }

    static long[] Longs(object? tuple) => ((object?[])tuple!).Select(x => (long)x!).ToArray();

    static string Describe(object? value) => value switch
    {
        null => "None",
        string s => $"'{s}'",
        bool b => b ? "True" : "False",
        object?[] tuple => "(" + string.Join(", ", tuple.Select(Describe)) + (tuple.Length == 1 ? ",)" : ")"),
        _ => value.ToString() ?? "",
    };

    sealed record PyGlobal(string Module, string Name)
    {
        public override string ToString() => $"{Module}.{Name}";
    }

    sealed record PyCall(PyGlobal Callable, object?[] Args)
    {
        public override string ToString() => $"{Callable}{Describe(Args)}";
    }

    sealed record PyPersistent(object?[] Id)
    {
        public override string ToString() => $"persistent{Describe(Id)}";
    }

    sealed class PyDict(string type)
    {
        public List<(object? Key, object? Value)> Items { get; } = [];
        public override string ToString() => $"{type}({{{string.Join(", ", Items.Select(i => $"{Describe(i.Key)}: {Describe(i.Value)}"))}}})";
    }

    /// <summary>The subset of Python's pickle machine that torch.save's state dicts use.</summary>
    sealed class Unpickler(byte[] data)
    {
        static readonly object Mark = new();
        readonly List<object?> stack = [];
        readonly Dictionary<long, object?> memo = [];
        int at;

        public object? Load()
        {
            while (true)
            {
                byte op = data[at++];
                switch (op)
                {
                    case 0x80: at++; break;                                          // PROTO n
                    case (byte)'.': return Pop();                                    // STOP
                    case (byte)'(': stack.Add(Mark); break;                          // MARK
                    case (byte)'}': stack.Add(new PyDict("dict")); break;            // EMPTY_DICT
                    case (byte)')': stack.Add(Array.Empty<object?>()); break;        // EMPTY_TUPLE
                    case (byte)'N': stack.Add(null); break;                          // NONE
                    case 0x88: stack.Add(true); break;                               // NEWTRUE
                    case 0x89: stack.Add(false); break;                              // NEWFALSE
                    case (byte)'K': stack.Add((long)data[at++]); break;              // BININT1
                    case (byte)'M': stack.Add((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break;  // BININT2
                    case (byte)'J': stack.Add((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break;   // BININT
                    case 0x8a:                                                       // LONG1
                        int n = data[at++];
                        var bytes = Take(n);
                        stack.Add(n == 0 ? 0L : (long)new System.Numerics.BigInteger(bytes, isUnsigned: false, isBigEndian: false));
                        break;
                    case (byte)'X': stack.Add(Encoding.UTF8.GetString(Take(BinaryPrimitives.ReadInt32LittleEndian(Take(4))))); break;  // BINUNICODE
                    case (byte)'c':                                                  // GLOBAL module\nname\n
                        stack.Add(new PyGlobal(Line(), Line()));
                        break;
                    case (byte)'q': memo[data[at++]] = stack[^1]; break;             // BINPUT
                    case (byte)'r': memo[BinaryPrimitives.ReadUInt32LittleEndian(Take(4))] = stack[^1]; break;  // LONG_BINPUT
                    case (byte)'h': stack.Add(memo[data[at++]]); break;              // BINGET
                    case (byte)'j': stack.Add(memo[BinaryPrimitives.ReadUInt32LittleEndian(Take(4))]); break;  // LONG_BINGET
                    case (byte)'t': stack.Add(PopToMark()); break;                   // TUPLE
                    case 0x85: stack.Add(new[] { Pop() }); break;                    // TUPLE1
                    case 0x86: { var b = Pop(); var a = Pop(); stack.Add(new[] { a, b }); break; }  // TUPLE2
                    case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); stack.Add(new[] { a, b, c }); break; }  // TUPLE3
                    case (byte)'Q': stack.Add(new PyPersistent((object?[])Pop()!)); break;  // BINPERSID
                    case (byte)'R':                                                  // REDUCE
                    {
                        var args = (object?[])Pop()!;
                        var callable = (PyGlobal)Pop()!;
                        stack.Add(callable == new PyGlobal("collections", "OrderedDict") ? OrderedDict(args) : new PyCall(callable, args));
                        break;
                    }
                    case (byte)'s': { var v = Pop(); var k = Pop(); ((PyDict)stack[^1]!).Items.Add((k, v)); break; }  // SETITEM
                    case (byte)'u':                                                  // SETITEMS
                    {
                        var items = PopToMark();
                        for (int i = 0; i < items.Length; i += 2) ((PyDict)stack[^1]!).Items.Add((items[i], items[i + 1]));
                        break;
                    }
                    case (byte)'b': Pop(); break;                                    // BUILD: the state (_metadata) is not compared
                    default:
                        throw new NotSupportedException($"pickle opcode 0x{op:x2} at byte {at - 1} is not one torch.save uses for a state dict");
                }
            }
        }

        /// <summary>Python's OrderedDict() or OrderedDict(pairs): PyTorch writes the first, PyBridge OrderedDict(()).</summary>
        static PyDict OrderedDict(object?[] args)
        {
            var dict = new PyDict("collections.OrderedDict");
            if (args is [object?[] pairs])
            {
                foreach (var pair in pairs) dict.Items.Add(pair is object?[] { Length: 2 } kv ? (kv[0], kv[1])
                    : throw new InvalidDataException($"OrderedDict item {Describe(pair)} is not a (key, value) pair"));
            }
            else if (args.Length != 0) throw new InvalidDataException($"OrderedDict{Describe(args)}: expected no argument or one sequence of pairs");
            return dict;
        }

        ReadOnlySpan<byte> Take(int count)
        {
            var span = data.AsSpan(at, count);
            at += count;
            return span;
        }

        string Line()
        {
            int end = Array.IndexOf(data, (byte)'\n', at);
            string line = Encoding.ASCII.GetString(data, at, end - at);
            at = end + 1;
            return line;
        }

        object? Pop()
        {
            var top = stack[^1];
            stack.RemoveAt(stack.Count - 1);
            return top;
        }

        object?[] PopToMark()
        {
            int mark = stack.LastIndexOf(Mark);
            var items = stack.Skip(mark + 1).ToArray();
            stack.RemoveRange(mark, stack.Count - mark);
            return items;
        }
    }
}
