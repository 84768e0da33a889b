namespace Cnn.Zoo.IO;

/// <summary>
/// Writes a file so that readers only ever see the old or the new content: write a hidden temporary file beside it,
/// flush it to disk, then rename it over the target (rename is atomic on one file system). A crash, Ctrl+C or a full
/// disk mid-write leaves the previous file intact. Every file the project saves (weights, checkpoints, metrics,
/// pictures, exported images, the converted pretrained backbone) goes through here; it lives in the bottom project
/// so that Cnn.Transfer and Cnn.Training share it.
/// </summary>
public static class AtomicFile
{
    /// <param name="createDirectory">Create a missing parent folder; when false, a missing folder is an error that names it.</param>
    public static void Write(string path, Action<Stream> write, bool createDirectory = true)
    {
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full) ?? ".";
        if (createDirectory) Directory.CreateDirectory(directory);
        else if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"cannot write '{full}': directory '{directory}' does not exist");
        string temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { /* the original error matters more */ }
            throw;
        }
    }

    public static void WriteAllText(string path, string text)
        => Write(path, s =>
        {
            using var writer = new StreamWriter(s, leaveOpen: true);
            writer.Write(text);
        });

    public static void WriteAllBytes(string path, byte[] bytes) => Write(path, s => s.Write(bytes));

    /// <summary>Copies <paramref name="source"/> to <paramref name="path"/>, which holds the old or the whole new content at any time.</summary>
    public static void Copy(string source, string path)
        => Write(path, s =>
        {
            using var from = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            from.CopyTo(s, 1 << 20);
        });
}
