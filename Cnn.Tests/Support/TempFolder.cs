namespace Cnn.Tests.Support;

/// <summary>A fresh empty folder under the system temp folder for one test, deleted when disposed.</summary>
public sealed class TempFolder : IDisposable
{
    /// <param name="name">Part of the folder's name, so a folder left by a crashed run says which test made it.</param>
    public TempFolder(string name = "test") => Path = Directory.CreateTempSubdirectory($"cnnzoo-{name}-").FullName;

    public string Path { get; }

    /// <summary>A path inside the folder; its parent folders are created.</summary>
    public string File(params string[] parts)
    {
        string path = System.IO.Path.Combine([Path, .. parts]);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        return path;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { /* a leftover temp folder is harmless */ }
    }
}
