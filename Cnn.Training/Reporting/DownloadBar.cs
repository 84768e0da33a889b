using System.Globalization;
using Cnn.Transfer.Catalog;

namespace Cnn.Training.Reporting;

/// <summary>
/// Draws a weights download on standard error, as torch.hub's tqdm bar does: bytes so far and in all, rate, ETA.
/// On a terminal the line is redrawn in place; when standard error is redirected a plain line is written at every
/// 25%, so logs stay readable.
/// </summary>
public sealed class DownloadBar
{
    readonly TextWriter output;
    readonly bool interactive;
    int lastQuarter = -1;

    public DownloadBar(TextWriter? output = null, bool? interactive = null)
    {
        this.output = output ?? Console.Error;
        this.interactive = interactive ?? !Console.IsErrorRedirected;
    }

    /// <summary>Draws <paramref name="progress"/>; pass this method as the progress callback of a fetch.</summary>
    public void Report(DownloadProgress progress)
    {
        ArgumentNullException.ThrowIfNull(progress);
        bool done = progress.TotalBytes is long total && progress.Bytes >= total;
        string line = Line(progress);
        if (interactive)
        {
            output.Write($"\r{line}   ");
            if (done) output.WriteLine();
            return;
        }
        int quarter = progress.Fraction is double f ? (int)(4 * f) : 0;
        if (quarter <= lastQuarter) return;
        lastQuarter = quarter;
        output.WriteLine(line);
    }

    /// <summary><c>resnet50-11ad3fa6.pth  45.2 / 97.8 MB  46%  12.3 MB/s  ETA 0:04</c>.</summary>
    public static string Line(DownloadProgress progress)
    {
        ArgumentNullException.ThrowIfNull(progress);
        static string Mb(double bytes) => (bytes / 1e6).ToString("F1", CultureInfo.InvariantCulture);
        string size = progress.TotalBytes is long total ? $"{Mb(progress.Bytes)} / {Mb(total)} MB {100 * progress.Fraction!.Value,3:F0}%" : $"{Mb(progress.Bytes)} MB";
        string eta = progress.Eta is TimeSpan t ? $"ETA {(t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : t.ToString(@"m\:ss", CultureInfo.InvariantCulture))}" : "";
        return $"{progress.FileName}  {size}  {Mb(progress.BytesPerSecond)} MB/s  {eta}".TrimEnd();
    }
}
