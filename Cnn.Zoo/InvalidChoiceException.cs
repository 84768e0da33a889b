namespace Cnn.Zoo;

/// <summary>
/// A value the caller chose is not one the project accepts: a model name or option, a layer, a class, weights,
/// preprocessing, a data folder. The message says what was expected and what was found. It is an
/// <see cref="ArgumentException"/>, so library callers can treat it as one; the command line reports it as a wrong
/// command line (exit 2), and any other <see cref="ArgumentException"/> as an unexpected error (a bug to report).
/// </summary>
public sealed class InvalidChoiceException : ArgumentException
{
    public InvalidChoiceException(string message) : base(message) { }

    public InvalidChoiceException(string message, Exception inner) : base(message, inner) { }
}
