using Cnn.Transfer;

namespace Cnn.Training.Data;

/// <summary>Makes the <see cref="DataSplit"/> a run records, from the data sets it trains and validates on.</summary>
public static class DataSplits
{
    /// <summary>The split of <paramref name="data"/> into <paramref name="train"/> and <paramref name="heldOut"/>, fingerprinted.</summary>
    public static DataSplit Of(string data, double validationFraction, int seed, IImageDataset train, IImageDataset heldOut)
        => new(DataSplit.Identify(data), validationFraction, seed, Fingerprint(train, heldOut));

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
}
