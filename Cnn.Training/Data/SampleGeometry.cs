namespace Cnn.Training.Data;

/// <summary>
/// The shape a dataset's samples share, decided from all of them (an image folder's scan reads every file): the
/// channel count always agrees (the colour mode decides it); height and width are known only when every image has
/// the same size, and are null for a folder of mixed sizes, which must then be resized to batch.
/// </summary>
public sealed record SampleGeometry(int Channels, int? Height, int? Width)
{
    /// <summary>The geometry of one image, for verbs that transform images one at a time (predict, explain).</summary>
    public static SampleGeometry Of(ImageData image) => new(image.Channels, image.Height, image.Width);

    /// <summary>True when every sample has the same height and width.</summary>
    public bool SameSize => Height is not null && Width is not null;

    /// <summary>The geometry of images of the given sizes (pairs of height and width), all with <paramref name="channels"/> channels.</summary>
    public static SampleGeometry Of(int channels, IEnumerable<(int Height, int Width)> sizes)
    {
        var distinct = sizes.Distinct().Take(2).ToList();
        return distinct.Count == 1 ? new(channels, distinct[0].Height, distinct[0].Width) : new(channels, null, null);
    }

    public override string ToString() => SameSize ? $"{Channels}x{Height}x{Width}" : $"{Channels} channel(s), mixed sizes";
}
