using Cnn.Onnx;
using Cnn.Zoo.Inference;
using Cnn.Zoo.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Training.Training;

/// <summary>
/// A pass of a model that is training, in float32 and eval mode, that only infers: the frozen body's features
/// (<see cref="FeatureCache"/>) or the held-out scores of an epoch (<see cref="Trainer"/>). It runs on a snapshot, so
/// the model itself is only read, by the fastest engine that gives its answers. On a CPU: the model exported to ONNX
/// (batch norms folded; <see cref="OnnxExportOptions.FeaturesOnly"/> for the body) and run by ONNX Runtime, whose own
/// kernels ran ResNet-18 at 112 px 2.2-2.5x faster than libtorch's (this project's 2-core AMD guest, where oneDNN is
/// held to AVX; 280 against 110-130 images/s) and agree with them to float rounding. On a GPU, or for a model family
/// the exporter does not know: libtorch, through an <see cref="InferenceModel"/> of a copy (batch norms folded,
/// channels-last where it pays), as <c>cnnzoo eval</c> runs a model.
/// </summary>
public sealed class InferencePass : nn.Module<Tensor, Tensor>
{
    readonly ZooModel model;
    readonly Device device;
    readonly bool featuresOnly;
    OnnxRuntimeModel? onnx;
    InferenceModel? libtorch;

    /// <param name="featuresOnly">Run the body only (<see cref="ZooModel.ForwardFeatures"/>); otherwise the logits.</param>
    public InferencePass(ZooModel model, Device device, bool featuresOnly) : base($"{model.GetName()}_inference_pass")
    {
        this.model = model;
        this.device = device;
        this.featuresOnly = featuresOnly;
        base.train(false);
    }

    /// <summary>Where the pass takes its batches: the model's device.</summary>
    public Device Device => device;

    /// <summary>Whether the pass returns the body's output (<see cref="ZooModel.ForwardFeatures"/>) rather than the logits.</summary>
    public bool FeaturesOnly => featuresOnly;

    /// <summary>What runs the pass once the first batch has gone through: "ONNX Runtime" or "libtorch".</summary>
    public string Engine => onnx is not null ? "ONNX Runtime" : "libtorch";

    public override Tensor forward(Tensor images)
    {
        if (onnx is null && libtorch is null) Open(images);
        if (onnx is not null) return onnx.call(images);
        return featuresOnly ? libtorch!.Features(images) : libtorch!.call(images);
    }

    /// <summary>Chooses the engine and takes the snapshot; the first batch gives the input size the graph is written for.</summary>
    void Open(Tensor images)
    {
        if (device.type == DeviceType.CPU)
        {
            try
            {
                onnx = OnnxRuntimeModel.Create(model, new OnnxRuntimeOptions(Threads: torch.get_num_threads()),
                                               new OnnxExportOptions((int)images.shape[2], (int)images.shape[3], FeaturesOnly: featuresOnly));
                return;
            }
            catch (NotSupportedException)
            {
                // A model family the exporter does not know: libtorch computes it.
            }
        }
        libtorch = InferenceModel.Optimize(model.Copy());
    }

    public override void train(bool on = true)
    {
        if (on) throw new InvalidOperationException($"{GetName()} only infers; train the model it was made from");
        base.train(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            onnx?.Dispose();
            libtorch?.Dispose();
        }
        base.Dispose(disposing);
    }
}
