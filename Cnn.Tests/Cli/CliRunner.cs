using System.Diagnostics;
using Cnn.Tests.Support;
using Cnn.Training.Cli;

namespace Cnn.Tests.Cli;

/// <summary>Runs <c>cnnzoo</c> as a user does: in-process through <see cref="Commands.Run"/>, or as a child process.</summary>
public static class CliRunner
{
    static readonly object console = new();

    /// <summary>Exit code, standard output and standard error of one in-process run.</summary>
    public static (int Code, string Output, string Error) Run(params string[] args)
    {
        lock (console)
        {
            var (previousOut, previousError) = (Console.Out, Console.Error);
            using var output = new StringWriter();
            using var error = new StringWriter();
            Console.SetOut(output);
            Console.SetError(error);
            try
            {
                int code = Commands.Run(args);
                return (code, output.ToString(), WithUnexpectedErrorLog(error.ToString()));
            }
            finally
            {
                Console.SetOut(previousOut);
                Console.SetError(previousError);
            }
        }
    }

    /// <summary>
    /// An unexpected error's message names its log; a test that fails on one then shows the stack trace that the console
    /// rightly leaves out (the run folder, and with it the log, is gone once the test's temporary folder is deleted).
    /// </summary>
    static string WithUnexpectedErrorLog(string error)
    {
        const string marker = "please report it with the log: ";
        int at = error.IndexOf(marker, StringComparison.Ordinal);
        if (at < 0) return error;
        string path = error[(at + marker.Length)..].Split('\n')[0].Trim();
        if (!File.Exists(path)) return error;
        string log = File.ReadAllText(path);
        return $"{error}\n--- {path} (end) ---\n{log[Math.Max(0, log.Length - 8000)..]}";
    }

    /// <summary>Starts <c>cnnzoo</c> (the build beside the tests) as a child process with redirected output.</summary>
    public static Process Start(string workingDirectory, params string[] args) => Start(workingDirectory, null, args);

    /// <summary>The same, with <paramref name="environment"/> variables set for the child.</summary>
    public static Process Start(string workingDirectory, IReadOnlyDictionary<string, string>? environment, string[] args)
    {
        // A test host started in the background by a non-interactive shell ignores SIGINT, and children inherit that
        // (the runtime honours an ignore found at start-up, as nohup expects); env(1) restores Ctrl+C for the child.
        bool restoreSigInt = OperatingSystem.IsLinux() && File.Exists("/usr/bin/env");
        var start = new ProcessStartInfo(restoreSigInt ? "/usr/bin/env" : "dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        if (restoreSigInt) foreach (string a in new[] { "--default-signal=INT", "dotnet" }) start.ArgumentList.Add(a);
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "cnnzoo.dll"));
        foreach (string a in args) start.ArgumentList.Add(a);
        return Process.Start(start) ?? throw new InvalidOperationException("could not start cnnzoo");
    }

    /// <summary>Runs a child process to the end; fails the test if it takes longer than <paramref name="timeout"/>.</summary>
    public static (int Code, string Output, string Error) RunProcess(string workingDirectory, TimeSpan timeout, params string[] args)
        => RunProcess(workingDirectory, timeout, null, args);

    /// <summary>The same, with <paramref name="environment"/> variables set for the child.</summary>
    public static (int Code, string Output, string Error) RunProcess(string workingDirectory, TimeSpan timeout,
                                                                     IReadOnlyDictionary<string, string>? environment, string[] args)
    {
        using var process = Start(workingDirectory, environment, args);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"cnnzoo {string.Join(' ', args)} did not finish in {timeout}");
        }
        return (process.ExitCode, output.Result, error.Result);
    }

    /// <summary>A .NET stack trace or exception dump on the console is a defect: the error path must catch everything.</summary>
    public static void AssertNoStackTrace(string text)
    {
        Assert.IsFalse(text.Contains("   at ", StringComparison.Ordinal), "stack trace on the console:\n" + text);
        Assert.IsFalse(text.Contains("Unhandled exception", StringComparison.OrdinalIgnoreCase), "unhandled exception:\n" + text);
    }

    public static string RepoRoot => TestPaths.RepoRoot;
}
