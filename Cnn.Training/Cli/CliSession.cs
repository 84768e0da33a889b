namespace Cnn.Training.Cli;

/// <summary>What the error path needs to know about the running verb: its arguments and its run folder.</summary>
public sealed class CliSession(string[] argv)
{
    /// <summary>The arguments as given to <see cref="Commands.Run"/>.</summary>
    public IReadOnlyList<string> Argv { get; } = argv;

    public string Verb { get; set; } = "train";

    /// <summary>Set by a verb once it has made its run folder, so error.log lands there.</summary>
    public string? RunFolder { get; set; }
}
