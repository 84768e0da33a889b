namespace Cnn.Training.Training;

/// <summary>
/// Writes a file so that readers only ever see the old or the new content: write a temp file beside it, flush it
/// to disk, then rename over the target (rename is atomic on one file system). A crash mid-write leaves the
/// previous file intact and at worst a stray <c>.tmp</c>.
/// </summary>
public static class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temp = $"{full}.{Environment.ProcessId}.tmp";
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            if (File.Exists(temp)) File.Delete(temp);
            throw;
        }
    }

    public static void WriteAllText(string path, string text)
        => Write(path, s =>
        {
            using var writer = new StreamWriter(s, leaveOpen: true);
            writer.Write(text);
        });
}
