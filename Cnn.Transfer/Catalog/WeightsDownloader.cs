using System.Diagnostics;
using System.Security.Cryptography;

namespace Cnn.Transfer.Catalog;

/// <summary>
/// Downloads a file into a cache the way torch.hub's <c>download_url_to_file</c> does, so both ecosystems can share
/// one cache: a file already there is used without any network access; otherwise the bytes go to a temporary file in
/// the same folder, the SHA-256 is checked against the prefix from the file name, and only a verified, complete file
/// is renamed into place. A failure (HTTP error, connection refused, transfer cut short, wrong hash) deletes the
/// temporary file, so the cache never holds a partial file, and raises a <see cref="WeightsDownloadException"/> that
/// says what went wrong and where to put the file by hand.
/// <para>Two processes (or threads) fetching the same file each write their own temporary file; the first rename
/// wins and the other discards its copy, so neither can see or leave a half-written file under the final name.</para>
/// </summary>
public static class WeightsDownloader
{
    /// <summary>A download that receives nothing for this long is abandoned.</summary>
    public static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(60);

    static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(200);

    // One client for the process (sockets are pooled); no overall timeout, since a 500 MB VGG file may take minutes:
    // connecting and each read have their own limits instead.
    static readonly HttpClient Client = new(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(30) })
    {
        Timeout = Timeout.InfiniteTimeSpan,
        DefaultRequestHeaders = { { "User-Agent", "cnnzoo (torch.hub compatible)" } },
    };

    /// <summary>
    /// <paramref name="destination"/>, downloaded from <paramref name="url"/> first unless it already exists.
    /// </summary>
    /// <param name="sha256Prefix">Lower-case hex digits the file's SHA-256 must start with; null skips the check.</param>
    /// <param name="log">One line when a download starts and one when it ends; nothing on a cache hit.</param>
    /// <param name="progress">Called as bytes arrive (at most every 200 ms) and once at the end.</param>
    /// <exception cref="WeightsDownloadException">The download failed or did not verify; nothing was left behind.</exception>
    public static string Fetch(string url, string destination, string? sha256Prefix, Action<string>? log = null,
                               Action<DownloadProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(destination);
        destination = Path.GetFullPath(destination);
        if (File.Exists(destination)) return destination;
        return FetchAsync(url, destination, sha256Prefix, log, progress, cancellation).GetAwaiter().GetResult();
    }

    static async Task<string> FetchAsync(string url, string destination, string? sha256Prefix, Action<string>? log,
                                         Action<DownloadProgress>? progress, CancellationToken cancellation)
    {
        string fileName = Path.GetFileName(destination);
        string folder = Path.GetDirectoryName(destination)!;
        WeightsDownloadException Failure(string what, Exception? inner = null) => new(
            $"could not download {fileName}: {what}. URL: {url}. To place the file by hand (e.g. copied from a machine "
            + $"with internet access), put it at {destination}; or set {WeightsCache.MirrorVariable} to a mirror that holds it",
            url, destination, inner);

        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Failure($"cannot create the cache folder {folder} ({e.Message})", e);
        }
        // torch.hub announces downloads on stderr the same way.
        log?.Invoke($"Downloading: \"{url}\" to {destination}");
        string temp = Path.Combine(folder, $"{fileName}.{Guid.NewGuid():N}.partial");
        var watch = Stopwatch.StartNew();
        long received = 0;
        long? total = null;
        try
        {
            HttpResponseMessage response;
            try
            {
                response = await Client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellation).ConfigureAwait(false);
            }
            catch (HttpRequestException e)
            {
                throw Failure($"the server could not be reached ({e.Message})", e);
            }
            catch (TaskCanceledException e) when (!cancellation.IsCancellationRequested)
            {
                throw Failure("the connection timed out", e);
            }
            using (response)
            {
                if (!response.IsSuccessStatusCode)
                    throw Failure($"the server answered HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
                total = response.Content.Headers.ContentLength;
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
                {
                    await using var body = await response.Content.ReadAsStreamAsync(cancellation).ConfigureAwait(false);
                    var buffer = new byte[1 << 16];
                    var lastReport = TimeSpan.Zero;
                    while (true)
                    {
                        int read;
                        using (var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellation))
                        {
                            idle.CancelAfter(ReadTimeout);
                            try
                            {
                                read = await body.ReadAsync(buffer, idle.Token).ConfigureAwait(false);
                            }
                            catch (OperationCanceledException e) when (!cancellation.IsCancellationRequested)
                            {
                                throw Failure($"no data for {ReadTimeout.TotalSeconds:F0} s after {received:N0}{Of(total)} bytes", e);
                            }
                            catch (Exception e) when (e is IOException or HttpRequestException)
                            {
                                throw Failure($"the transfer was cut short after {received:N0}{Of(total)} bytes ({e.Message})", e);
                            }
                        }
                        if (read == 0) break;
                        hash.AppendData(buffer, 0, read);
                        await file.WriteAsync(buffer.AsMemory(0, read), cancellation).ConfigureAwait(false);
                        received += read;
                        if (progress is not null && watch.Elapsed - lastReport >= ProgressInterval)
                        {
                            lastReport = watch.Elapsed;
                            progress(new DownloadProgress(fileName, received, total, watch.Elapsed));
                        }
                    }
                    file.Flush(flushToDisk: true);
                }
                if (total is long expected && received != expected)
                    throw Failure($"the transfer was cut short: {received:N0} of {expected:N0} bytes arrived");
                string digest = Convert.ToHexStringLower(hash.GetHashAndReset());
                if (sha256Prefix is not null && !digest.StartsWith(sha256Prefix, StringComparison.Ordinal))
                    throw Failure($"the SHA-256 of the {received:N0} bytes received is {digest}, but the file name says it starts with "
                                  + $"{sha256Prefix} (a damaged transfer, or a mirror serving another file); the download was discarded");
            }
            progress?.Invoke(new DownloadProgress(fileName, received, total, watch.Elapsed));
            try
            {
                File.Move(temp, destination, overwrite: false);
                log?.Invoke($"Downloaded {fileName}: {received:N0} bytes in {watch.Elapsed.TotalSeconds:F1} s"
                            + (sha256Prefix is null ? " (no hash in the file name to check)" : $", SHA-256 starts with {sha256Prefix} as expected"));
            }
            catch (IOException) when (File.Exists(destination))
            {
                // Another process finished the same download first; its verified file is as good as ours.
                log?.Invoke($"{fileName} arrived in the cache from another download meanwhile; using it");
            }
            return destination;
        }
        finally
        {
            try
            {
                if (File.Exists(temp)) File.Delete(temp);
            }
            catch (IOException)
            {
                // The error being raised matters more than a stray temporary file, whose name marks it as partial.
            }
        }
    }

    static string Of(long? total) => total is long t ? $" of {t:N0}" : "";
}
