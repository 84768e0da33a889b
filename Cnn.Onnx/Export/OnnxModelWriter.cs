using Cnn.Zoo;
using Cnn.Zoo.Models;

namespace Cnn.Onnx.Export;

/// <summary>
/// The dataflow of each model family's eval-mode forward pass (<c>ForwardFeatures</c>, then <c>ForwardHead</c>), by
/// child name; the layers themselves are written by <see cref="OnnxLayerWriter"/>. A new family needs one case here.
/// </summary>
internal static class OnnxModelWriter
{
    /// <summary>The graph of the model's eval-mode forward pass from <paramref name="x"/>: the logits, or with
    /// <paramref name="featuresOnly"/> the body's output (<see cref="ZooModel.ForwardFeatures"/>).</summary>
    public static string Write(OnnxLayerWriter layers, OnnxGraphBuilder graph, ZooModel model, string x, bool featuresOnly)
    {
        string features = Body(layers, graph, model, x);
        return featuresOnly ? features : Head(layers, model, features);
    }

    /// <summary><see cref="ZooModel.ForwardFeatures"/>: where each family's body ends (before any pooling).</summary>
    static string Body(OnnxLayerWriter layers, OnnxGraphBuilder graph, ZooModel model, string x) => model switch
    {
        LeNet5 or AlexNet or Vgg or MobileNetV1 or MobileNetV2 => layers.Chain(model, "", x, "features"),
        ResNet => layers.Chain(model, "", x, "conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4"),
        // The auxiliary classifiers (aux1, aux2) run in training only, so the exported graph has none.
        GoogLeNet googLeNet => layers.Chain(model, "", TransformInput(graph, googLeNet, x),
                                            "conv1", "maxpool1", "conv2", "conv3", "maxpool2", "inception3a", "inception3b", "maxpool3",
                                            "inception4a", "inception4b", "inception4c", "inception4d", "inception4e", "maxpool4",
                                            "inception5a", "inception5b"),
        _ => throw new NotSupportedException(
            $"{model.GetName()} is a {model.GetType().Name}, a model family the ONNX exporter does not know; it exports " +
            "LeNet5, AlexNet, Vgg, ResNet, GoogLeNet, MobileNetV1 and MobileNetV2. Add a case for it to OnnxModelWriter's Body and Head."),
    };

    /// <summary><see cref="ZooModel.ForwardHead"/>: [pooling] -> flatten(1) -> classifier.</summary>
    static string Head(OnnxLayerWriter layers, ZooModel model, string features) => model switch
    {
        LeNet5 => Classify(layers, model, features, "classifier"),
        AlexNet or Vgg or MobileNetV1 => Classify(layers, model, layers.Chain(model, "", features, "avgpool"), "classifier"),
        // MobileNetV2 pools with the functional adaptive_avg_pool2d(features, 1), so there is no child for it.
        MobileNetV2 => Classify(layers, model, layers.AdaptiveAveragePool([1], "avgpool", features), "classifier"),
        ResNet => Classify(layers, model, layers.Chain(model, "", features, "avgpool"), "fc"),
        GoogLeNet => Classify(layers, model, layers.Chain(model, "", features, "avgpool"), "dropout", "fc"),
        _ => throw new NotSupportedException($"{model.GetType().Name} has a body case but no head case in OnnxModelWriter"),
    };

    /// <summary>The head every family shares: flatten(1), then the classifier's children.</summary>
    static string Classify(OnnxLayerWriter layers, ZooModel model, string features, params string[] head)
        => layers.Chain(model, "", layers.Flatten(features, "flatten"), head);

    /// <summary>
    /// GoogLeNet's <c>transform_input</c>: per channel x * (std / 0.5) + (mean - 0.5) / 0.5 with ImageNet's statistics,
    /// the arithmetic of <c>GoogLeNet.Transform</c>, mapping ImageNet-normalised input to the (x - 0.5) / 0.5 range
    /// torchvision's pretrained weights expect. Without the option the input passes unchanged.
    /// </summary>
    static string TransformInput(OnnxGraphBuilder graph, GoogLeNet model, string x)
    {
        if (!model.TransformInput) return x;
        var (mean, std) = (Preprocessing.ImageNetMean, Preprocessing.ImageNetStd);
        string scale = graph.Constant("transform_input.scale", [.. std.Select(s => (float)(s / 0.5))], 1, std.Count, 1, 1);
        string shift = graph.Constant("transform_input.shift", [.. mean.Select(m => (float)((m - 0.5) / 0.5))], 1, mean.Count, 1, 1);
        string scaled = graph.Node("Mul", "transform_input.mul", [x, scale], graph.Shape(x));
        return graph.Node("Add", "transform_input", [scaled, shift], graph.Shape(x));
    }
}
