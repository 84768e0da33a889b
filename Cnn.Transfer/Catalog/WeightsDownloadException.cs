namespace Cnn.Transfer.Catalog;

/// <summary>
/// A weights file could not be downloaded or failed verification. Nothing was left in the cache; the message says
/// what went wrong, the URL, and the exact path where the file can be placed by hand.
/// </summary>
public sealed class WeightsDownloadException : IOException
{
    public WeightsDownloadException(string message, string url, string destination, Exception? inner = null)
        : base(message, inner)
    {
        Url = url;
        Destination = destination;
    }

    /// <summary>The URL that was requested.</summary>
    public string Url { get; }

    /// <summary>Where the file belongs in the cache.</summary>
    public string Destination { get; }
}
