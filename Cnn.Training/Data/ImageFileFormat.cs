namespace Cnn.Training.Data;

/// <summary>File formats the exporter writes.</summary>
public enum ImageFileFormat
{
    /// <summary>Lossless; the default.</summary>
    Png,
    /// <summary>Lossy (quality 95), smaller and slower to decode: what most photo collections hold.</summary>
    Jpeg,
}
