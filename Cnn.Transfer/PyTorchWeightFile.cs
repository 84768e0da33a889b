using System.Collections;
using System.IO.Compression;
using Razorvine.Pickle;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Cnn.Transfer;

/// <summary>
/// torch.save's zip archive holding a pickle (<c>.pt</c>, <c>.pth</c>, <c>.bin</c>, ...): read through
/// TorchSharp.PyBridge's unpickler with checkpoint unwrapping and numpy placeholders, written as PyTorch writes it.
/// </summary>
internal static class PyTorchWeightFile
{
    static PyTorchWeightFile()
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

    public static Dictionary<string, Tensor> Read(string path, IReadOnlyList<string> containers)
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

    /// <summary>
    /// Writes contiguous CPU tensors as torch.save does: <c>archive/data.pkl</c> (<see cref="StateDictPickle"/>, keys in
    /// the given order), one stored entry <c>archive/data/i</c> per tensor, and <c>archive/version</c>. Entries are stored,
    /// not deflated, as PyTorch stores them; TorchSharp.PyBridge's writer deflates every entry, which took 1.5 s for
    /// ResNet-18's 45 MB on this project's 2-core machine (this writer: about 0.1 s) and saved a few percent of the size.
    /// </summary>
    public static void Write(Stream stream, IReadOnlyList<(string Key, Tensor Value)> tensors)
    {
        using var archive = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
        void Entry(string name, ReadOnlySpan<byte> bytes)
        {
            using var entry = archive.CreateEntry($"archive/{name}", CompressionLevel.NoCompression).Open();
            entry.Write(bytes);
        }
        Entry("data.pkl", StateDictPickle.Write([.. tensors.Select(t => (t.Key, t.Value.dtype, t.Value.shape))]));
        for (int i = 0; i < tensors.Count; i++) Entry($"data/{i}", tensors[i].Value.bytes);
        Entry("version", "3\n"u8);
    }
}
