namespace Cnn.Training.Data;

/// <summary>
/// The one definition of the colour conversions: which <see cref="ColorMode"/> a model's channel count asks for, and
/// PIL's grey level. Decoding (<see cref="ImageCodec"/>) and the pipeline's <see cref="Transforms.ToChannels"/> both use
/// it, so a picture converted while decoding and one converted after decoding get the same values.
/// </summary>
public static class ColorModes
{
    /// <summary>
    /// The decoding mode for a model with <paramref name="channels"/> input channels: grey for 1, RGB for 3. This is
    /// what <c>predict</c> and <c>eval</c> call with the model's channel count.
    /// </summary>
    public static ColorMode ForChannels(int channels) => channels switch
    {
        1 => ColorMode.Grey,
        3 => ColorMode.Rgb,
        _ => throw new ArgumentOutOfRangeException(nameof(channels), channels,
                 "image files decode to 1 (grey) or 3 (RGB) channels; expected a model that takes one of those"),
    };

    /// <summary>
    /// ITU-R BT.601 luma as PIL's <c>convert("L")</c> computes it: <c>L = R * 299/1000 + G * 587/1000 + B * 114/1000</c>
    /// in 16-bit fixed point, rounded. The weights sum to exactly 65536, so a grey pixel (R = G = B) keeps its value.
    /// </summary>
    internal static byte Luma(byte red, byte green, byte blue) =>
        (byte)((red * 19595 + green * 38470 + blue * 7471 + 0x8000) >> 16);

    /// <summary>A value in [0, 1] as the byte it was read from (readers make byte / 255, which this inverts exactly).</summary>
    internal static byte ToByte(float value) => (byte)Math.Clamp(MathF.Round(value * 255f), 0f, 255f);
}
