using Cnn.Zoo.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Zoo.Inference;

/// <summary>Which optimisations <see cref="InferenceModel.Optimize"/> applies; all are on by default.</summary>
/// <param name="FoldBatchNorm">Fold batch norms into the preceding convolutions (<see cref="BatchNormFolding"/>).</param>
/// <param name="Layout">Convolution weights and each input batch in channels-last layout (<see cref="MemoryFormat"/>);
/// Auto decides from the model's standard input size.</param>
/// <param name="InferenceMode">Run under <c>torch.inference_mode()</c>: no autograd records, no version counters.</param>
public sealed record InferenceOptions(bool FoldBatchNorm = true, MemoryLayout Layout = MemoryLayout.Auto, bool InferenceMode = true);

/// <summary>
/// A zoo model prepared for prediction only: batch norms folded, channels-last layout, and inference mode.
/// Outputs equal the plain eval-mode model's to float rounding. The wrapped model is changed in place and can no
/// longer be trained (its <c>train()</c> throws); load a fresh copy to train again.
/// </summary>
public sealed class InferenceModel : nn.Module<Tensor, Tensor>
{
    private readonly ZooModel model;

    private InferenceModel(ZooModel model, InferenceOptions options, bool channelsLast, int foldedBatchNorms)
        : base(model.GetName() + "_inference")
    {
        this.model = model;
        Options = options;
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

    /// <summary>What was applied, e.g. "BN folded + channels-last + inference_mode".</summary>
    public string Description
    {
        get
        {
            var parts = new List<string>();
            if (Options.FoldBatchNorm) parts.Add("BN folded");
            if (ChannelsLast) parts.Add("channels-last");
            if (Options.InferenceMode) parts.Add("inference_mode");
            return parts.Count == 0 ? "plain eval" : string.Join(" + ", parts);
        }
    }

    /// <summary>Prepares <paramref name="model"/> for inference in place and wraps it.</summary>
    public static InferenceModel Optimize(ZooModel model, InferenceOptions? options = null)
    {
        options ??= new InferenceOptions();
        model.eval();
        foreach (var parameter in model.parameters()) parameter.requires_grad = false;
        int folded = 0;
        if (options.FoldBatchNorm)
        {
            folded = BatchNormFolding.Fold(model);
            model.MarkInferenceOnly();
        }
        bool channelsLast = MemoryFormat.UsesChannelsLast(options.Layout, model.Input.Height, model.Input.Width);
        if (channelsLast) MemoryFormat.ConvertConvolutionWeights(model);
        return new InferenceModel(model, options, channelsLast, folded);
    }

    public override Tensor forward(Tensor x)
    {
        using var mode = Options.InferenceMode ? inference_mode() : no_grad();
        if (!ChannelsLast) return model.call(x);
        using var input = MemoryFormat.ToChannelsLast(x);
        return model.call(input);
    }

    public override void train(bool on = true)
    {
        if (on) throw new InvalidOperationException($"{GetName()} is prepared for inference only and cannot be trained");
        base.train(false);
    }
}
