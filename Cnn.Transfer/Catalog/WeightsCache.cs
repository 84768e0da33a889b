namespace Cnn.Transfer.Catalog;

/// <summary>
/// Where fetched and converted weights are kept, and where published files are downloaded from.
/// <para><see cref="FromEnvironment()"/> gives torch.hub's own folder for published files, so a file a PyTorch user
/// already downloaded is used without any network access, and a file downloaded here is one PyTorch uses too.</para>
/// </summary>
/// <param name="CheckpointsDirectory">Published weight files, under their published names (torch.hub's
/// <c>$TORCH_HOME/hub/checkpoints</c>).</param>
/// <param name="ConvertedDirectory">Weights this project converted from other formats (not PyTorch's business).</param>
/// <param name="BaseUrl">Replaces the published base URL (<see cref="PublishedBaseUrl"/>) of every published file,
/// for a mirror; file names and hashes stay the same. Null: each file's own URL.</param>
public sealed record WeightsCache(string CheckpointsDirectory, string ConvertedDirectory, string? BaseUrl = null)
{
    /// <summary>Where torchvision publishes its weights.</summary>
    public const string PublishedBaseUrl = "https://download.pytorch.org/models/";

    /// <summary>The environment variable that names a mirror of <see cref="PublishedBaseUrl"/>.</summary>
    public const string MirrorVariable = "CNNZOO_WEIGHTS_URL";

    /// <summary>The folders and mirror the process environment asks for (see <see cref="FromEnvironment(Func{string, string?}, string)"/>).</summary>
    public static WeightsCache FromEnvironment()
        => FromEnvironment(Environment.GetEnvironmentVariable, Environment.GetFolderPath(Environment.SpecialFolder.UserProfile));

    /// <summary>
    /// torch.hub's rule for published files: <c>$TORCH_HOME/hub/checkpoints</c>, where <c>TORCH_HOME</c> defaults to
    /// <c>$XDG_CACHE_HOME/torch</c>, then <c>~/.cache/torch</c> (a leading <c>~</c> is expanded, as Python's
    /// <c>expanduser</c> does). Converted weights: <c>$CNNZOO_CACHE</c>, else <c>$XDG_CACHE_HOME/cnnzoo</c>, else
    /// <c>~/.cache/cnnzoo</c>. <c>$CNNZOO_WEIGHTS_URL</c> names a mirror. Empty variables count as unset.
    /// </summary>
    /// <param name="variable">Reads an environment variable (null when unset).</param>
    /// <param name="home">The user's home folder.</param>
    public static WeightsCache FromEnvironment(Func<string, string?> variable, string home)
    {
        ArgumentNullException.ThrowIfNull(variable);
        ArgumentNullException.ThrowIfNull(home);
        string? Get(string name) => variable(name) is { Length: > 0 } value ? ExpandUser(value, home) : null;
        string cacheHome = Get("XDG_CACHE_HOME") ?? Path.Combine(home, ".cache");
        string torchHome = Get("TORCH_HOME") ?? Path.Combine(cacheHome, "torch");
        return new WeightsCache(
            Path.Combine(torchHome, "hub", "checkpoints"),
            Get("CNNZOO_CACHE") ?? Path.Combine(cacheHome, "cnnzoo"),
            variable(MirrorVariable) is { Length: > 0 } mirror ? mirror : null);
    }

    /// <summary>The URL <paramref name="file"/> is downloaded from: its own, or the mirror's base plus its file name.</summary>
    public string UrlFor(PublishedFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        return BaseUrl is null ? file.Url : BaseUrl.TrimEnd('/') + "/" + file.FileName;
    }

    static string ExpandUser(string path, string home)
        => path == "~" ? home
           : path.StartsWith("~/", StringComparison.Ordinal) ? Path.Combine(home, path[2..])
           : path;
}
