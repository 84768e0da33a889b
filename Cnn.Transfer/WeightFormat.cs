namespace Cnn.Transfer;

/// <summary>The two file formats PyTorch users exchange weights in.</summary>
internal enum WeightFormat
{
    /// <summary>torch.save's zip archive holding a pickle (<c>.pt</c>, <c>.pth</c>, <c>.bin</c>, ...).</summary>
    PyTorch,
    /// <summary>Hugging Face's safetensors: 8-byte header length, JSON header, raw little-endian data.</summary>
    Safetensors,
}
