using Cnn.Tests.Support;
using Cnn.Zoo;
using Cnn.Zoo.Inference;
using Cnn.Zoo.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Tests.Zoo;

/// <summary>bfloat16 inference: chosen only where the CPU computes it natively, and close to float32 where it is used.</summary>
[TestClass]
public sealed class PrecisionTests
{
    public static IEnumerable<object[]> AllModels => ModelRegistry.Names.Select(n => new object[] { n });

    static readonly CpuCapabilities WithoutBf16 = CpuCapabilities.None;
    static readonly CpuCapabilities WithAvx512Bf16 = new(Avx512Bf16: true, AmxBf16: false);

    static long[] Batch(ZooModel m, int n)
        => m.Input.FixedSize ? [n, m.Input.Channels, m.Input.Height, m.Input.Width]
                             : [n, m.Input.Channels, Math.Max(m.Input.MinHeight, 64), Math.Max(m.Input.MinWidth, 64)];

    [TestMethod]
    [DynamicData(nameof(AllModels))]
    public void BFloat16LogitsStayCloseToFloat32AndAgreeOnTheTopClass(string name)
    {
        const int images = 16;
        using var model = ModelRegistry.Create(name, 10);
        DeterministicWeights.Apply(model);   // batch-norm statistics far from 0/1, so folding before the cast matters
        model.eval();
        using var x = DeterministicWeights.Input(Batch(model, images));
        Tensor expected;
        using (no_grad()) expected = model.call(x);   // the plain float32 model, as checked against PyTorch
        using var _ = expected;

        using var bf16 = InferenceModel.Optimize(model, new InferenceOptions(Precision: InferencePrecision.BFloat16));
        using var actual = bf16.call(x);

        Assert.AreEqual(ScalarType.Float32, actual.dtype, "outputs come back as float32");
        Assert.IsTrue(bf16.Model.parameters().Any(p => p.dtype == ScalarType.BFloat16), "the weights are bfloat16");
        double scale = expected.abs().max().item<float>();
        double error = (actual - expected).abs().max().item<float>() / scale;
        using var agree = actual.argmax(1).eq(expected.argmax(1));
        long agreeing = agree.sum().item<long>();
        Console.WriteLine($"MEASURE {name}: max rel error {error:P3}, top-1 agreement {agreeing}/{images}");
        Assert.IsTrue(error <= 0.05, $"{name}: bf16 logits differ from fp32 by {error:P2} of the output scale");
    }
}
