using Cnn.Onnx.Import;
using Cnn.Zoo.Models;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using static TorchSharp.torch;

namespace Cnn.Tests.Onnx.Import;

/// <summary>
/// What the pretrained tests share, built once: the ML.NET ONNX files, ONNX Runtime sessions over them (the
/// reference), and a few deterministic RGB test images.
/// </summary>
internal static class OnnxReference
{
    public static PretrainedBackbone Entry => PretrainedBackbones.Get("resnet18_2223");

    static readonly Lazy<string> onnxPath = new(() => PretrainedBackbones.LocatePackageFile(Entry, Entry.OnnxFile));
    static readonly Lazy<string> preprocessPath = new(() => PretrainedBackbones.LocatePackageFile(Entry, Entry.PreprocessFile));
    static readonly Lazy<ModelProto> model = new(() => ModelProto.Parser.ParseFrom(File.ReadAllBytes(OnnxPath)));
    static readonly Lazy<InferenceSession> network = new(() => Session(OnnxPath));
    static readonly Lazy<InferenceSession> preprocess = new(() => Session(PreprocessPath));

    public static string OnnxPath => onnxPath.Value;
    public static string PreprocessPath => preprocessPath.Value;

    /// <summary>The parsed ResNet18.onnx; tests that mutate it work on a <c>Clone()</c>.</summary>
    public static ModelProto Model => model.Value;

    static InferenceSession Session(string path)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 2, GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
        return new InferenceSession(path, options);
    }

    /// <summary>ResNet18.onnx on one 1 x 3 x 224 x 224 input in its own convention (BGR, mean subtracted): 512 pooled features.</summary>
    public static float[] Network(Tensor onnxInput) => Run(network.Value, onnxInput);

    /// <summary>ML.NET's whole pipeline on RGB 0-255: ResNetPreprocess.onnx (BGR, minus the mean image), then ResNet18.onnx.</summary>
    public static float[] Pipeline(Tensor rgb255)
    {
        using var bgr = PreprocessWithOnnxRuntime(rgb255);
        return Network(bgr);
    }

    /// <summary>ResNetPreprocess.onnx alone: RGB 0-255 in, BGR minus the mean image out.</summary>
    public static Tensor PreprocessWithOnnxRuntime(Tensor rgb255) => tensor(Run(preprocess.Value, rgb255), [1, 3, 224, 224]);

    static float[] Run(InferenceSession session, Tensor input)
    {
        if (!input.shape.SequenceEqual([1L, 3, 224, 224])) throw new ArgumentException("the ONNX graphs take 1 x 3 x 224 x 224");
        return OnnxSessions.Run(session, input);
    }

    /// <summary>Pooled features (the classifier's input) of a zoo model: ForwardFeatures, then global average pooling.</summary>
    public static float[] ZooFeatures(ZooModel zoo, Tensor input)
    {
        zoo.eval();
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        return zoo.ForwardFeatures(input).mean([2, 3]).flatten().data<float>().ToArray();
    }

    /// <summary>Deterministic 1 x 3 x 224 x 224 RGB images with values 0-255, different in kind.</summary>
    public static IReadOnlyList<(string Name, Tensor Rgb)> Images => images.Value;

    static readonly Lazy<List<(string, Tensor)>> images = new(() =>
    [
        ("gradient-stripes", Image((c, y, x) => 128 + 100 * Math.Sin(x / 9.0 + 2 * c) * Math.Cos(y / 23.0) + 0.1 * (y - 112))),
        ("noise", Noise(seed: 7)),
        ("rings", Image((c, y, x) => Math.Sqrt((x - 100) * (x - 100) + (y - 130) * (y - 130)) % 40 < 20 ? 40 + 60 * c : 220 - 50 * c)),
        ("checker", Image((c, y, x) => ((x / 28 + y / 28) % 2 == 0) ? 30 : 230 - 40 * c)),
    ]);

    static Tensor Image(Func<int, int, int, double> pixel)
    {
        var data = new float[3 * 224 * 224];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 224; y++)
                for (int x = 0; x < 224; x++)
                    data[(c * 224 + y) * 224 + x] = (float)Math.Clamp(pixel(c, y, x), 0, 255);
        return tensor(data, [1, 3, 224, 224]);
    }

    static Tensor Noise(int seed)
    {
        var random = new Random(seed);
        return Image((_, _, _) => random.Next(256));
    }

    /// <summary>Largest |a - b| and the largest |b| (the feature scale).</summary>
    public static (double MaxAbs, double Scale, double Cosine) Compare(float[] actual, float[] expected)
    {
        Assert.HasCount(expected.Length, actual);
        double maxAbs = 0, scale = 0, dot = 0, na = 0, nb = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            maxAbs = Math.Max(maxAbs, Math.Abs(actual[i] - expected[i]));
            scale = Math.Max(scale, Math.Abs(expected[i]));
            dot += (double)actual[i] * expected[i];
            na += (double)actual[i] * actual[i];
            nb += (double)expected[i] * expected[i];
        }
        return (maxAbs, scale, dot / Math.Sqrt(na * nb));
    }
}
