namespace Cnn.Training.Data;

/// <summary>How an image file's pictures are turned into channels.</summary>
public enum ColorMode
{
    /// <summary>Three channels; grey pictures are repeated, alpha is dropped (PIL's <c>convert("RGB")</c>, torchvision's default loader).</summary>
    Rgb,

    /// <summary>One channel of ITU-R BT.601 luma, rounded as PIL's <c>convert("L")</c> does, for digit-style data.</summary>
    Grey,
}
