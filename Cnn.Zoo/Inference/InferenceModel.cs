using Cnn.Zoo.Models;
using Cnn.Zoo.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Zoo.Inference;

/// <summary>
/// A zoo model prepared for prediction only: batch norms folded, channels-last layout, inference mode, and bfloat16
/// where the caller asks for it (or for Auto, proven on calibration images). Inputs and outputs are float32 whatever the precision inside. In float32 the
/// outputs equal the plain eval-mode model's to float rounding; in bfloat16 they are within about 1% of the output scale. The wrapped model is changed in place and can no
/// longer be trained (its <c>train()</c> throws); load a fresh copy to train again.
/// </summary>
public sealed class InferenceModel : nn.Module<Tensor, Tensor>
{
    private readonly ZooModel model;

    private InferenceModel(ZooModel model, InferenceOptions options, PrecisionChoice precision, bool channelsLast, int foldedBatchNorms)
        : base(model.GetName() + "_inference")
    {
        this.model = model;
        Options = options;
        Precision = precision;
        ChannelsLast = channelsLast;
        FoldedBatchNorms = foldedBatchNorms;
        RegisterComponents();
        base.train(false);
    }

    /// <summary>The optimised model (changed in place, eval mode, parameters frozen).</summary>
    public ZooModel Model => model;

    public InferenceOptions Options { get; }

    /// <summary>How many batch norms were folded away.</summary>
    public int FoldedBatchNorms { get; }

    /// <summary>Whether weights and inputs are channels-last (the resolved <see cref="InferenceOptions.Layout"/>).</summary>
    public bool ChannelsLast { get; }

    /// <summary>The precision the model computes in, and why it was chosen.</summary>
    public PrecisionChoice Precision { get; }

    bool BFloat16 => Precision.Precision == InferencePrecision.BFloat16;

    /// <summary>What was applied, e.g. "BN folded + channels-last + inference_mode + bf16".</summary>
    public string Description
    {
        get
        {
            var parts = new List<string>();
            if (Options.FoldBatchNorm) parts.Add("BN folded");
            if (ChannelsLast) parts.Add("channels-last");
            if (Options.InferenceMode) parts.Add("inference_mode");
            if (BFloat16) parts.Add("bf16");
            return parts.Count == 0 ? "plain eval" : string.Join(" + ", parts);
        }
    }

    /// <summary>
    /// Prepares <paramref name="model"/> for inference in place and wraps it. Batch norms are folded in float32 before
    /// any cast to bfloat16, so the folded weights are rounded once, not computed from rounded statistics. With
    /// <see cref="InferencePrecision.Auto"/> on a CPU that qualifies, bf16 is tried on the calibration images and kept
    /// only if it passes (<see cref="PrecisionCalibration"/>); otherwise the model goes back to its float32 weights.
    /// </summary>
    public static InferenceModel Optimize(ZooModel model, InferenceOptions? options = null)
    {
        options ??= new InferenceOptions();
        using var safety = NativeSafety.Hold();   // folding and casting make temporaries libtorch must not lose (NativeSafety)
        var cpu = options.Cpu ?? CpuCapabilities.Current;
        var precision = PrecisionChoice.Resolve(options.Precision, cpu, model.Input,
                                                onCpu: model.parameters().All(p => p.device_type == DeviceType.CPU));
        bool prove = options.Precision == InferencePrecision.Auto && precision.Precision == InferencePrecision.BFloat16;
        if (prove && options.Calibration is null)
        {
            precision = new(InferencePrecision.Float32, "auto: fp32, because no calibration images were given to prove bf16 for this model");
            prove = false;
        }
        model.eval();
        using var reference = prove ? Run(model.call, options.Calibration!, bfloat16: false, channelsLast: false, options.InferenceMode) : null;
        foreach (var parameter in model.parameters()) parameter.requires_grad = false;
        int folded = 0;
        if (options.FoldBatchNorm)
        {
            folded = BatchNormFolding.Fold(model);
            model.MarkInferenceOnly();
        }
        var float32 = prove ? model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone()) : null;
        bool bfloat16 = precision.Precision == InferencePrecision.BFloat16;
        var casts = bfloat16 ? ToBFloat16(model) : [];
        // oneDNN's bf16 convolutions take NHWC directly; in NCHW it reorders around every layer, and on AMD Zen 5 its
        // NCHW bf16 kernel returned wrong values for output-channel counts that are not multiples of 16 (measured).
        bool channelsLast = bfloat16 && options.Layout == MemoryLayout.Auto
                            || MemoryFormat.UsesChannelsLast(options.Layout, model.Input.Height, model.Input.Width);
        if (channelsLast) MemoryFormat.ConvertConvolutionWeights(model);
        if (prove)
        {
            PrecisionCalibration verdict;
            using (var candidate = Run(model.call, options.Calibration!, bfloat16: true, channelsLast, options.InferenceMode))
                verdict = PrecisionCalibration.Judge(reference!, candidate, options.CalibrationTolerance);
            if (verdict.Passed)
                precision = new(InferencePrecision.BFloat16, $"auto: bf16, because this CPU computes it natively ({cpu}) and, for this model, {verdict}");
            else
            {
                BackToFloat32(model, casts, float32!);
                precision = new(InferencePrecision.Float32, $"auto: fp32, because bf16 failed its check for this model: {verdict}");
            }
            foreach (var tensor in float32!.Values) tensor.Dispose();
        }
        return new InferenceModel(model, options, precision, channelsLast, folded);
    }

    /// <summary>Undoes <see cref="ToBFloat16"/>: float32 again, with the exact float32 values it had before the cast.</summary>
    static void BackToFloat32(ZooModel model, IEnumerable<HookRemover> casts, Dictionary<string, Tensor> float32)
    {
        foreach (var cast in casts) cast.remove();
        model.to(ScalarType.Float32);
        using var _ = no_grad();
        foreach (var (key, tensor) in model.state_dict()) tensor.copy_(float32[key]);
    }

    /// <summary>
    /// Casts every weight and buffer to bfloat16, except convolutions over a single input channel (LeNet-5's first
    /// layer): they reduce over only kh x kw products, so bfloat16 saves nothing there, and oneDNN's AVX-512 bf16 kernel
    /// for them returned values off by up to 90% of the output scale on AMD Zen 5 (measured, 6 output channels).
    /// They stay float32 between two casts made by forward hooks, so the module tree and its names are unchanged.
    /// </summary>
    /// <returns>The hooks that cast around the float32 convolutions, for <see cref="BackToFloat32"/>.</returns>
    static List<HookRemover> ToBFloat16(ZooModel model)
    {
        model.to(ScalarType.BFloat16);
        var casts = new List<HookRemover>();
        foreach (var conv in model.modules().OfType<TorchSharp.Modules.Conv2d>().Where(c => c.in_channels == 1))
        {
            conv.to(ScalarType.Float32);
            casts.Add(conv.register_forward_pre_hook((_, input) => input.to(ScalarType.Float32)));
            casts.Add(conv.register_forward_hook((_, _, output) => output.to(ScalarType.BFloat16)));
        }
        return casts;
    }

    /// <summary>Float32 images in, float32 outputs out, whatever the precision inside.</summary>
    public override Tensor forward(Tensor x) => Run(model.call, x, BFloat16, ChannelsLast, Options.InferenceMode);

    /// <summary>The body's output (<see cref="ZooModel.ForwardFeatures"/>) for float32 images, computed as
    /// <see cref="forward"/> computes the logits; float32, in the layout the body left it.</summary>
    public Tensor Features(Tensor x) => Run(model.ForwardFeatures, x, BFloat16, ChannelsLast, Options.InferenceMode);

    static Tensor Run(Func<Tensor, Tensor> network, Tensor x, bool bfloat16, bool channelsLast, bool inferenceMode)
    {
        using var mode = inferenceMode ? inference_mode() : no_grad();
        using var scope = NewDisposeScope();
        var input = bfloat16 ? x.to(ScalarType.BFloat16) : x;
        if (channelsLast) input = MemoryFormat.ToChannelsLast(input);
        var output = network(input);
        return (bfloat16 ? output.to(ScalarType.Float32) : output).MoveToOuterDisposeScope();
    }

    public override void train(bool on = true)
    {
        if (on) throw new InvalidOperationException($"{GetName()} is prepared for inference only and cannot be trained");
        base.train(false);
    }
}
