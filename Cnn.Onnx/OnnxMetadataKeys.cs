namespace Cnn.Onnx;

/// <summary>
/// The keys of the exported file's <c>metadata_props</c> (ONNX Runtime: <c>session.ModelMetadata.CustomMetadataMap</c>).
/// Lists are JSON arrays and numbers JSON numbers, so a consumer parses each with one call; names are plain text.
/// </summary>
public static class OnnxMetadataKeys
{
    /// <summary>The registry name of the model, e.g. <c>resnet18</c> (plain text).</summary>
    public const string Model = "model";

    /// <summary>The class names in output order (a JSON array of strings).</summary>
    public const string Classes = "classes";

    /// <summary>The channel order the input expects: <c>rgb</c> or <c>grey</c> (plain text; absent for other channel counts).</summary>
    public const string Color = "color";

    /// <summary>The shorter side, in pixels, to resize an image to before the crop (a JSON number).</summary>
    public const string Resize = "resize";

    /// <summary>Present (<c>true</c>) when square images of the crop size or up to 8 pixels smaller were zero-padded to
    /// the crop, not resized, in training (MNIST's 28-pixel digits for a 32-pixel input); absent otherwise.</summary>
    public const string PadSmallSquares = "pad_small_squares";

    /// <summary>The resize's interpolation, torchvision's name for it, e.g. <c>bilinear</c> (plain text).</summary>
    public const string Interpolation = "interpolation";

    /// <summary>The central crop [height, width]: the graph's input size (a JSON array).</summary>
    public const string Crop = "crop";

    /// <summary>Per-channel mean subtracted from pixels scaled to [0, 1] (a JSON array).</summary>
    public const string Mean = "mean";

    /// <summary>Per-channel standard deviation divided by after the mean (a JSON array).</summary>
    public const string Std = "std";
}
