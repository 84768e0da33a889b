namespace Cnn.Training.Cli;

/// <summary>
/// Ctrl+C for long work: the first press asks the work to stop at the next safe point (the trainer finishes its step
/// and writes last.ckpt); a second press exits at once.
/// </summary>
public static class Interruptible
{
    public static T Run<T>(Func<CancellationToken, T> work)
    {
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            if (cancel.IsCancellationRequested) Environment.Exit(ExitCode.Interrupted);
            Console.WriteLine("\nCtrl+C: finishing the current step and saving a checkpoint (press again to abort)");
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            return work(cancel.Token);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}
