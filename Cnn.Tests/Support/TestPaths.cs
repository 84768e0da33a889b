namespace Cnn.Tests.Support;

public static class TestPaths
{
    /// <summary>The repository root: the folder above the test assembly that holds Cnn.Zoo.sln.</summary>
    public static string RepoRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Cnn.Zoo.sln"))) return dir.FullName;
            }
            throw new DirectoryNotFoundException($"Cnn.Zoo.sln not found above {AppContext.BaseDirectory}");
        }
    }

    /// <summary>Fixtures copied beside the test assembly (see Cnn.Tests.csproj).</summary>
    public static string Fixture(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "Fixtures", .. parts]);
}
