using Cnn.Zoo.IO;
using SkiaSharp;

namespace Cnn.Training.Reporting;

/// <summary>The one way a picture of this project reaches the disk: PNG, written atomically.</summary>
public static class PngFile
{
    /// <summary>Writes <paramref name="bitmap"/> as PNG, atomically (a reader never sees half a file), and disposes it.</summary>
    public static void Save(string path, SKBitmap bitmap)
    {
        ArgumentNullException.ThrowIfNull(bitmap);
        using (bitmap)
        using (var image = SKImage.FromBitmap(bitmap))
        using (var data = image.Encode(SKEncodedImageFormat.Png, 100))
            AtomicFile.Write(path, s => data.SaveTo(s));
    }
}
