namespace Cnn.Training.Cli;

/// <summary>A wrong command line: the message says what was allowed and what was found. Exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);
