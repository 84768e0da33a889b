namespace Cnn.Transfer;

/// <summary>
/// Which data a run trained on and how an image folder was split, recorded with its weights (in the checkpoint, and in
/// the <see cref="Catalog.WeightsSidecar"/> beside a weights file) so that <c>eval</c> scores exactly the held-out
/// images, whatever seed or fraction it is run with.
/// </summary>
/// <param name="Data">"mnist", "fashion-mnist", or the full path of the folder (<see cref="Identify"/>).</param>
/// <param name="ValidationFraction">Share of each class an image folder held out (IDX and CIFAR-10 sets ship their own test set).</param>
/// <param name="Seed">Seed of the stratified shuffle that split the folder.</param>
/// <param name="Files">The count and a SHA-256 prefix of every sample's name and label when the run started: if the
/// folder changes, the same seed would hold out other images, and <c>eval</c> refuses instead of scoring training
/// images. Null in checkpoints written before it was recorded.</param>
/// <param name="TrainPerClass">Training images per class the run kept (<c>--train-per-class</c>, chosen by
/// <paramref name="Seed"/>); 0: all of its part.</param>
public sealed record DataSplit(string Data, double ValidationFraction, int Seed, string? Files = null, int TrainPerClass = 0)
{
    /// <summary>The shipped sets by name; a folder by its full path, so "digits/" and "./digits" are the same data.</summary>
    public static string Identify(string data)
        => data is "mnist" or "fashion-mnist" ? data : Path.TrimEndingDirectorySeparator(Path.GetFullPath(data));

    /// <summary>Whether <paramref name="data"/> (as given on a command line) is the data this split was made from.</summary>
    public bool IsOf(string data) => Identify(data) == Data;
}
