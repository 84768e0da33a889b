namespace Cnn.Training.Data;

/// <summary>
/// Which data a run trained on and how an image folder was split, recorded in its checkpoint so that <c>eval</c>
/// scores exactly the held-out images, whatever seed or fraction it is run with.
/// </summary>
/// <param name="Data">"mnist", "fashion-mnist", or the full path of the folder (<see cref="Identify"/>).</param>
/// <param name="ValidationFraction">Share of each class an image folder held out (IDX and CIFAR-10 sets ship their own test set).</param>
/// <param name="Seed">Seed of the stratified shuffle (<see cref="Datasets.Split"/>).</param>
public sealed record DataSplit(string Data, double ValidationFraction, int Seed)
{
    /// <summary>The shipped sets by name; a folder by its full path, so "digits/" and "./digits" are the same data.</summary>
    public static string Identify(string data)
        => data is "mnist" or "fashion-mnist" ? data : Path.TrimEndingDirectorySeparator(Path.GetFullPath(data));

    /// <summary>Whether <paramref name="data"/> (as given on a command line) is the data this split was made from.</summary>
    public bool IsOf(string data) => Identify(data) == Data;
}
