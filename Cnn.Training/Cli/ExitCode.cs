namespace Cnn.Training.Cli;

/// <summary>The exit codes of <c>cnnzoo</c>, listed in <c>cnnzoo --help</c> and the README.</summary>
public static class ExitCode
{
    public const int Success = 0;
    /// <summary>The run failed: damaged or unreadable input, a diverged loss, or an unexpected error.</summary>
    public const int Failed = 1;
    /// <summary>The command line was wrong: an unknown verb, option or value, a missing argument.</summary>
    public const int Usage = 2;
    /// <summary>Interrupted with Ctrl+C after saving a checkpoint.</summary>
    public const int Interrupted = 130;

    public const string Help = "exit codes: 0 success, 1 the run failed (message says why; stack trace in error.log), " +
                               "2 wrong command line, 130 interrupted (checkpoint saved)";
}
