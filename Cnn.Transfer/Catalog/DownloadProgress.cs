namespace Cnn.Transfer.Catalog;

/// <summary>How far a download has come: what a progress bar shows.</summary>
/// <param name="FileName">The file being downloaded.</param>
/// <param name="Bytes">Bytes received so far.</param>
/// <param name="TotalBytes">The size the server announced (Content-Length), when it did.</param>
/// <param name="Elapsed">Time since the request was sent.</param>
public sealed record DownloadProgress(string FileName, long Bytes, long? TotalBytes, TimeSpan Elapsed)
{
    /// <summary>Average rate so far, bytes per second (0 before any time has passed).</summary>
    public double BytesPerSecond => Elapsed > TimeSpan.Zero ? Bytes / Elapsed.TotalSeconds : 0;

    /// <summary>Time left at the average rate so far; null when the size or the rate is unknown.</summary>
    public TimeSpan? Eta => TotalBytes is long total && BytesPerSecond > 0
        ? TimeSpan.FromSeconds(Math.Max(0, total - Bytes) / BytesPerSecond)
        : null;

    /// <summary>Done as a fraction of the announced size, when there is one.</summary>
    public double? Fraction => TotalBytes is > 0 and long total ? (double)Bytes / total : null;
}
