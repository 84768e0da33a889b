using Cnn.Zoo;

namespace Cnn.Onnx;

/// <summary>What <see cref="OnnxExport"/> writes besides the network; every field has a default.</summary>
/// <param name="Height">Input height the graph is written for; null takes the preprocessing's crop size, else the
/// model's standard size. The spatial size is fixed in the graph (the batch dimension is not), because the exporter
/// resolves adaptive pooling for it.</param>
/// <param name="Width">Input width, chosen the same way.</param>
/// <param name="ClassNames">One name per class, in output order; null writes the indices "0", "1", ...</param>
/// <param name="Preprocessing">How to prepare an image (resize, centre crop, mean, std), recorded in the file's
/// metadata; null records none: no resize beyond the crop, mean 0, std 1 (pixels scaled to [0, 1] as they are).</param>
/// <param name="FeaturesOnly">Write the body only (<see cref="Cnn.Zoo.Models.ZooModel.ForwardFeatures"/>): the output is
/// <see cref="OnnxExport.FeaturesName"/>, batch x features x h x w, instead of the logits.</param>
public sealed record OnnxExportOptions(int? Height = null, int? Width = null, IReadOnlyList<string>? ClassNames = null,
                                       Preprocessing? Preprocessing = null, bool FeaturesOnly = false);
