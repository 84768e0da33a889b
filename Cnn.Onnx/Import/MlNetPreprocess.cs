using Onnx;
using static TorchSharp.torch;

namespace Cnn.Onnx.Import;

/// <summary>
/// ML.NET's <c>ResNetPreprocess.onnx</c>: RGB 0-255 in, channels reversed to BGR, minus a per-pixel mean image.
/// A zoo model takes a per-channel normalisation, so the mean image is summarised by its channel means; the spread
/// recorded here says how much that approximation moves the input.
/// </summary>
/// <param name="ChannelMeans">Mean of the mean image per input channel, in B, G, R order (0-255 units).</param>
/// <param name="ChannelStd">Standard deviation of the mean image over its pixels, per channel.</param>
/// <param name="MaxDeviation">Largest |mean image - channel mean| per channel.</param>
/// <param name="MeanImage">The mean image, 3 x H x W in B, G, R order, for exact reference preprocessing.</param>
/// <param name="Height">Mean image height.</param>
/// <param name="Width">Mean image width.</param>
public sealed record MlNetPreprocess(double[] ChannelMeans, double[] ChannelStd, double[] MaxDeviation, float[] MeanImage, int Height, int Width)
{
    /// <summary>The per-channel approximation as an input convention (BGR minus channel means).</summary>
    public InputConvention Convention => InputConvention.BgrMinusMean("ml.net-resnet (channel means)", ChannelMeans[0], ChannelMeans[1], ChannelMeans[2]);

    /// <summary>
    /// The exact ML.NET preprocessing of an N x 3 x H x W RGB 0-255 batch (H, W the mean image's): BGR minus the mean
    /// image. Input for the raw <see cref="OnnxResNetImporter"/> weights when ML.NET's features are wanted bit for bit.
    /// </summary>
    public Tensor Apply(Tensor rgb)
    {
        if (rgb.dim() != 4 || rgb.shape[1] != 3 || rgb.shape[2] != Height || rgb.shape[3] != Width)
            throw new ArgumentException($"expected N x 3 x {Height} x {Width} RGB, found [{string.Join(", ", rgb.shape)}]");
        using var scope = NewDisposeScope();
        var mean = tensor(MeanImage, [1, 3, Height, Width]).to_type(rgb.dtype);
        return rgb.flip(1).sub(mean).MoveToOuterDisposeScope();
    }

    /// <summary>Reads and checks the preprocessing graph (Split -> Concat reversed -> Sub mean image).</summary>
    public static MlNetPreprocess Read(string path)
    {
        var graph = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)).Graph;
        var view = new OnnxGraphView(graph, Path.GetFileName(path));
        var input = view.DataInput();
        var split = view.SingleConsumer(input.Name, "Split", "channel split");
        if (split.Output.Count != 3 || OnnxGraphView.Int(split, "axis", 0) != 1)
            throw view.Fail(split, "channel split", "three outputs along axis 1", $"{split.Output.Count} outputs along axis {OnnxGraphView.Int(split, "axis", 0)}");
        var concat = view.Consumers(split.Output[0]).SingleOrDefault()
                     ?? throw view.Fail(OnnxGraphView.Describe(split), "expected the red channel to feed one Concat");
        view.Visit(concat);
        if (concat.OpType != "Concat" || !concat.Input.SequenceEqual([split.Output[2], split.Output[1], split.Output[0]]))
            throw view.Fail(concat, "BGR reorder", $"Concat of [{split.Output[2]}, {split.Output[1]}, {split.Output[0]}]",
                            $"{concat.OpType} of [{string.Join(", ", concat.Input)}]");
        var sub = view.SingleConsumer(concat.Output[0], "Sub", "mean subtraction");
        if (sub.Input.Count != 2 || sub.Input[0] != concat.Output[0])
            throw view.Fail(sub, "mean subtraction", $"'{concat.Output[0]}' minus the mean image", $"inputs [{string.Join(", ", sub.Input)}]");
        var meanProto = view.Initializer(sub, 1, "mean image");
        view.EnsureEverythingUsed();
        if (meanProto.Dims.Count != 4 || meanProto.Dims[0] != 1 || meanProto.Dims[1] != 3)
            throw view.Fail(sub, "mean image", "shape [1, 3, H, W]", OnnxGraphView.Format(meanProto.Dims));

        using var mean = view.ToTensor(meanProto, sub, "mean image");
        float[] image = mean.data<float>().ToArray();
        int h = (int)meanProto.Dims[2], w = (int)meanProto.Dims[3], plane = h * w;
        double[] means = new double[3], stds = new double[3], maxDev = new double[3];
        for (int c = 0; c < 3; c++)
        {
            var values = image.AsSpan(c * plane, plane);
            double sum = 0;
            foreach (float v in values) sum += v;
            means[c] = sum / plane;
            double sq = 0;
            foreach (float v in values)
            {
                double d = v - means[c];
                sq += d * d;
                maxDev[c] = Math.Max(maxDev[c], Math.Abs(d));
            }
            stds[c] = Math.Sqrt(sq / plane);
        }
        return new MlNetPreprocess(means, stds, maxDev, image, h, w);
    }
}
