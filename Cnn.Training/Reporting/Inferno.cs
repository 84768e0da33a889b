using SkiaSharp;

namespace Cnn.Training.Reporting;

/// <summary>
/// The "inferno" colour map (van der Walt and Smith, matplotlib 1.5, 2015): perceptually uniform, dark to light, so a
/// heat map reads the same in grey print and to colour-blind readers, and black-purple-orange-yellow says "hotter".
/// The control points are every 16th entry (and the last) of matplotlib's published 256-entry table
/// (<c>_inferno_data</c> in <c>lib/matplotlib/_cm_listed.py</c>); between them the sRGB values are interpolated
/// linearly, which stays within 0.02 of the full table.
/// </summary>
public static class Inferno
{
    static readonly float[,] ControlPoints =
    {
        { 0.001462f, 0.000466f, 0.013866f },   // entry 0
        { 0.042253f, 0.028139f, 0.141141f },   // 16
        { 0.129285f, 0.047293f, 0.290788f },   // 32
        { 0.238273f, 0.036621f, 0.396353f },   // 48
        { 0.341500f, 0.062325f, 0.429425f },   // 64
        { 0.441207f, 0.099338f, 0.431594f },   // 80
        { 0.540920f, 0.134729f, 0.415123f },   // 96
        { 0.640135f, 0.171438f, 0.381065f },   // 112
        { 0.735683f, 0.215906f, 0.330245f },   // 128
        { 0.822386f, 0.275197f, 0.266085f },   // 144
        { 0.894305f, 0.353399f, 0.193584f },   // 160
        { 0.946965f, 0.449191f, 0.115272f },   // 176
        { 0.978422f, 0.557937f, 0.034931f },   // 192
        { 0.987874f, 0.675267f, 0.065257f },   // 208
        { 0.974638f, 0.797692f, 0.206332f },   // 224
        { 0.947594f, 0.917399f, 0.410665f },   // 240
        { 0.988362f, 0.998364f, 0.644924f },   // 255
    };

    /// <summary>Table position (0 to 255) of control point <paramref name="i"/>.</summary>
    static float Position(int i) => Math.Min(16 * i, 255);

    /// <summary>The colour for <paramref name="t"/> in [0, 1] (clamped; NaN counts as 0) as sRGB fractions.</summary>
    public static (float R, float G, float B) At(float t)
    {
        float x = float.IsNaN(t) ? 0 : Math.Clamp(t, 0f, 1f) * 255f;
        int i = Math.Min((int)(x / 16), ControlPoints.GetLength(0) - 2);
        float f = (x - Position(i)) / (Position(i + 1) - Position(i));
        float Channel(int c) => ControlPoints[i, c] + f * (ControlPoints[i + 1, c] - ControlPoints[i, c]);
        return (Channel(0), Channel(1), Channel(2));
    }

    /// <summary>The colour for <paramref name="t"/> in [0, 1] as an opaque Skia colour.</summary>
    public static SKColor Color(float t)
    {
        var (r, g, b) = At(t);
        return new SKColor(ToByte(r), ToByte(g), ToByte(b));
    }

    internal static byte ToByte(float fraction) => (byte)Math.Clamp(MathF.Round(fraction * 255f), 0f, 255f);
}
