using System.Text;
using Cnn.Training.Data;
using Cnn.Training.Training;
using Cnn.Transfer;
using Cnn.Zoo;

namespace Cnn.Training.Cli;

/// <summary>
/// The one error path of the command line: every exception becomes one short message on standard error and an exit
/// code; the stack trace goes to <c>error.log</c> (in the run folder when the verb made one), never to the console.
/// </summary>
public static class CliErrors
{
    /// <summary>Where failures are logged when no run folder exists (predict, eval, ...).</summary>
    public static string FallbackLogFolder => Path.Combine(Path.GetTempPath(), "cnnzoo");

    public static int Report(Exception e, CliSession session, TextWriter error)
    {
        string verb = session.Verb;
        if (e is AggregateException { InnerExceptions.Count: 1 } aggregate) e = aggregate.InnerExceptions[0];
        var (code, message, expected) = Classify(e);
        error.WriteLine($"error: {message}");
        if (code == ExitCode.Usage)
        {
            error.WriteLine($"(run 'cnnzoo {verb} --help' for the options)");
            return code;
        }
        string? log = WriteLog(e, session);
        if (!expected)
            error.WriteLine($"This is an unexpected error ({e.GetType().Name}); please report it with the log" +
                            (log is null ? "." : $": {log}"));
        else if (log is not null)
            error.WriteLine($"(details in {log})");
        return code;
    }

    /// <summary>
    /// Exit code, one-paragraph message, and whether the exception is one the project documents for bad input. The
    /// project's own types decide: a wrong choice (<see cref="UsageException"/>, <see cref="InvalidChoiceException"/>)
    /// is exit 2; damaged data or weights, a diverged run and the file system's refusals are exit 1 with their message.
    /// Anything else, an <see cref="ArgumentException"/> or <see cref="InvalidOperationException"/> of .NET's included,
    /// is a bug: exit 1, and the user is asked to report it.
    /// </summary>
    static (int Code, string Message, bool Expected) Classify(Exception e) => e switch
    {
        UsageException or InvalidChoiceException => (ExitCode.Usage, e.Message, true),
        WeightLoadException or BadSampleException or InvalidDataException or TrainingDivergedException
            => (ExitCode.Failed, e.Message, true),
        FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException or IOException
            => (ExitCode.Failed, e.Message, true),
        _ => (ExitCode.Failed, FirstLine(e.Message), false),
    };

    static string FirstLine(string message)
    {
        string line = message.Split('\n', 2)[0].Trim();
        return line.Length > 300 ? line[..300] + " ..." : line;
    }

    /// <summary>Appends the full exception to error.log; returns its path, or null if even that failed.</summary>
    static string? WriteLog(Exception e, CliSession session)
    {
        try
        {
            string folder = session.RunFolder ?? FallbackLogFolder;
            Directory.CreateDirectory(folder);
            string path = Path.Combine(folder, "error.log");
            var text = new StringBuilder()
                .AppendLine($"--- {DateTime.Now:yyyy-MM-dd HH:mm:ss} cnnzoo {string.Join(' ', session.Argv)}")
                .AppendLine(e.ToString())
                .AppendLine();
            File.AppendAllText(path, text.ToString());
            return path;
        }
        catch (Exception logError) when (logError is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
