namespace Cnn.Training.Data;

/// <summary>
/// Which data a run trained on and how an image folder was split, recorded in its checkpoint so that <c>eval</c>
/// scores exactly the held-out images, whatever seed or fraction it is run with.
/// </summary>
/// <param name="Data">"mnist", "fashion-mnist", or the full path of the folder (<see cref="Identify"/>).</param>
/// <param name="ValidationFraction">Share of each class an image folder held out (IDX and CIFAR-10 sets ship their own test set).</param>
/// <param name="Seed">Seed of the stratified shuffle (<see cref="Datasets.Split"/>).</param>
/// <param name="Files">The count and a SHA-256 prefix of every sample's name and label when the run started
/// (<see cref="Fingerprint"/>): if the folder changes, the same seed would hold out other images, and <c>eval</c>
/// refuses instead of scoring training images. Null in checkpoints written before it was recorded.</param>
public sealed record DataSplit(string Data, double ValidationFraction, int Seed, string? Files = null)
{
    /// <summary>The split of <paramref name="data"/> into <paramref name="train"/> and <paramref name="heldOut"/>, fingerprinted.</summary>
    public static DataSplit Of(string data, double validationFraction, int seed, IImageDataset train, IImageDataset heldOut)
        => new(Identify(data), validationFraction, seed, Fingerprint(train, heldOut));

    /// <summary>"N samples, sha256 XXXXXXXXXXXXXXXX" over the sorted "name label" lines of both parts.</summary>
    public static string Fingerprint(IImageDataset train, IImageDataset heldOut)
    {
        var lines = new List<string>(train.Count + heldOut.Count);
        foreach (var part in new[] { train, heldOut })
            for (int i = 0; i < part.Count; i++) lines.Add($"{part.Describe(i)}\t{part.LabelOf(i)}");
        lines.Sort(StringComparer.Ordinal);
        byte[] hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Join('\n', lines)));
        return $"{lines.Count} samples, sha256 {Convert.ToHexStringLower(hash)[..16]}";
    }

    /// <summary>The shipped sets by name; a folder by its full path, so "digits/" and "./digits" are the same data.</summary>
    public static string Identify(string data)
        => data is "mnist" or "fashion-mnist" ? data : Path.TrimEndingDirectorySeparator(Path.GetFullPath(data));

    /// <summary>Whether <paramref name="data"/> (as given on a command line) is the data this split was made from.</summary>
    public bool IsOf(string data) => Identify(data) == Data;
}
