using System.IO.Compression;
using System.Text;
using Cnn.Tests.Support;
using Cnn.Transfer;
using Cnn.Zoo.Models;
using static Cnn.Tests.Transfer.TransferFixtures;

namespace Cnn.Tests.Transfer;

/// <summary>
/// Damaged and malicious weight files: seeded truncations and byte flips of PyTorch's zip and of safetensors either
/// load or end in <see cref="InvalidDataException"/> / <see cref="WeightLoadException"/> naming the file; a pickle
/// that would run a shell command is refused before anything is unpickled.
/// </summary>
[TestClass]
public sealed class WeightFileCorruptionTests
{
    static bool Documented(Exception e) => e is InvalidDataException or WeightLoadException;

    [TestMethod]
    [DataRow("lenet5.pt", 41)]
    [DataRow("lenet5_checkpoint.pt", 42)]
    [DataRow("lenet5.safetensors", 43)]
    public void DamagedCopiesLoadOrAreRefusedByName(string fixture, int seed)
    {
        using var folderTemp = new TempFolder("corrupt-weights");
        string folder = folderTemp.Path;
        string path = Path.Combine(folder, fixture);
        byte[] original = File.ReadAllBytes(PathOf(fixture));

        var outcome = Corruption.Run(fixture, path, original, () =>
        {
            using var model = new LeNet5();
            Weights.Load(model, path);
        }, Documented, seed);

        Assert.IsGreaterThan(0, outcome.Rejected);
    }

    /// <summary>A torch.save-style zip whose data.pkl is <paramref name="pickle"/>.</summary>
    static void WriteZip(string path, byte[] pickle)
    {
        using var file = File.Create(path);
        using var zip = new ZipArchive(file, ZipArchiveMode.Create);
        foreach (var (name, bytes) in new[] { ("archive/data.pkl", pickle), ("archive/version", Encoding.ASCII.GetBytes("3\n")) })
        {
            using var entry = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
            entry.Write(bytes);
        }
    }

    static byte[] Bytes(params object[] parts) =>
        parts.SelectMany(p => p switch
        {
            byte b => new[] { b },
            int i => new[] { (byte)i },
            char c => new[] { (byte)c },
            string s => Encoding.UTF8.GetBytes(s),
            byte[] a => a,
            _ => throw new ArgumentException(p.ToString()),
        }).ToArray();

    /// <summary>
    /// Byte for byte what Python 3.11's <c>pickle.dumps(obj, protocol=2)</c> and <c>protocol=4</c> write for an object
    /// whose <c>__reduce__</c> returns <c>(os.system, (command,))</c> (checked with pickletools.dis), and a variant that
    /// fetches the names back from the memo.
    /// </summary>
    static IEnumerable<(string How, byte[] Pickle)> ShellPickles(string command)
    {
        byte[] cmd = Encoding.UTF8.GetBytes(command);
        // Protocol 2: GLOBAL 'posix system', the command as BINUNICODE, TUPLE1, REDUCE, STOP.
        yield return ("GLOBAL", Bytes(0x80, 2, "cposix\nsystem\n", 'q', 0, 'X', BitConverter.GetBytes(cmd.Length), cmd,
                                      'q', 1, 0x85, 'q', 2, 'R', 'q', 3, '.'));
        // Protocol 4: one FRAME; the module and name as SHORT_BINUNICODE strings, memoized, then STACK_GLOBAL.
        var frame = Bytes(0x8c, 5, "posix", 0x94, 0x8c, 6, "system", 0x94, 0x93, 0x94, 0x8c, cmd.Length, cmd, 0x94, 0x85, 0x94,
                          'R', 0x94, '.');
        yield return ("STACK_GLOBAL", Bytes(0x80, 4, 0x95, BitConverter.GetBytes((long)frame.Length), frame));
        // The names fetched back from the memo (BINGET) before STACK_GLOBAL, as pickles that use a global twice do.
        yield return ("memo", Bytes(0x80, 4, 0x8c, 5, "posix", 0x94, 0x8c, 6, "system", 0x94, '0', '0', 'h', 0, 'h', 1, 0x93,
                                    0x8c, cmd.Length, cmd, 0x85, 'R', '.'));
    }

    [TestMethod]
    public void APickleThatWouldRunAShellCommandIsRefusedWithoutRunningIt()
    {
        using var folderTemp = new TempFolder("malicious");
        string folder = folderTemp.Path;
        string marker = Path.Combine(folder, "pwned");
        foreach (var (how, pickle) in ShellPickles($"touch {marker}"))
        {
            string path = Path.Combine(folder, $"evil-{how}.pt");
            WriteZip(path, pickle);

            var e = Assert.ThrowsExactly<InvalidDataException>(() => Weights.Read(path), how);

            StringAssert.Contains(e.Message, path, how);
            StringAssert.Contains(e.Message, "posix.system", how);
            StringAssert.Contains(e.Message, "refused", how);
            Assert.IsFalse(File.Exists(marker), $"{how}: the command ran");
        }
    }

    [TestMethod]
    public void ThePickleCheckAcceptsEveryFixtureTorchWrote()
    {
        // The allow-list must not refuse what real torch.save files hold: OrderedDict, storages, _rebuild_tensor_v2,
        // and in the reference training checkpoint argparse.Namespace, numpy scalars and arrays, _codecs.encode.
        foreach (string fixture in new[] { "lenet5.pt", "lenet5_checkpoint.pt", "tiny_model_container.pt", "tiny_reference_checkpoint.pth" })
        {
            var read = Weights.Read(PathOf(fixture));
            Assert.IsNotEmpty(read, fixture);
            foreach (var t in read.Values) t.Dispose();
        }
    }

    [TestMethod]
    public void ABuiltinThatRunsCodeIsRefusedToo()
    {
        using var pathTemp = new TempFolder("malicious");
        string path = Path.Combine(pathTemp.Path, "eval.pt");
        WriteZip(path, Bytes(0x80, 2, "cbuiltins\neval\n", 'X', BitConverter.GetBytes(2), "1+", 0x85, 'R', '.'));

        var e = Assert.ThrowsExactly<InvalidDataException>(() => Weights.Read(path));

        StringAssert.Contains(e.Message, "builtins.eval");
    }
}
