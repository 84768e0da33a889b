namespace Cnn.Zoo.Analysis;

/// <summary>One call of one leaf module during the summary's forward pass.</summary>
/// <param name="Name">The module's state-dict prefix (<c>layer1.0.conv1</c>).</param>
/// <param name="Type">The module's class.</param>
/// <param name="OutputShape">Output shape of this call, batch dimension included; null when the module was not called.</param>
/// <param name="Parameters">Parameters owned by the module (counted on its first call only).</param>
/// <param name="Trainable">Of those, how many have <c>requires_grad</c>.</param>
/// <param name="Macs">Multiply-accumulates per sample (convolutions and linear layers; other layers count 0).</param>
/// <param name="WeightLayer">1-based number of the weight layer (see <see cref="ModelSummary.WeightLayerCount"/>):
/// a convolution or linear layer; a projection shortcut (<c>downsample</c>) shares its block's number.</param>
public sealed record LayerRow(string Name, string Type, long[]? OutputShape, long Parameters, long Trainable, long Macs,
                              int? WeightLayer);
