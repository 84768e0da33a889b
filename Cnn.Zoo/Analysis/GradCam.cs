using Cnn.Zoo.Models;
using Cnn.Zoo.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Zoo.Analysis;

/// <summary>
/// Grad-CAM (Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks via Gradient-based Localization",
/// ICCV 2017, eq. 1-2): where in the image the evidence for a class lies. With A the target layer's activation
/// (N x K x h x w) and y_c the class's logit before softmax, w_k = the mean over h and w of dy_c/dA_k, and the map is
/// ReLU(sum over k of w_k A_k), at the layer's resolution.
/// </summary>
public static class GradCam
{
    /// <summary>
    /// The Grad-CAM of every image in <paramref name="images"/> (N x C x H x W, as the model takes them) for
    /// <paramref name="targetClass"/> (each image's top-1 class when null), at <paramref name="layer"/> (a module name as
    /// in <c>named_modules()</c>, e.g. <c>layer3</c> or <c>features.28</c>; the output of
    /// <see cref="ZooModel.ForwardFeatures"/> when null).
    /// </summary>
    /// <remarks>
    /// The model runs in eval mode (batch norms use their running statistics, so images do not influence each other)
    /// and every module's training flag is restored afterwards. The gradient is taken with respect to a detached copy
    /// of the activation, so frozen parameters, a caller's <c>no_grad</c>, and in-place operations after the layer do
    /// not matter, and no parameter's <c>.grad</c> is touched. A model whose batch norms were folded
    /// (<see cref="Inference.InferenceModel.Model"/>) works too; the <see cref="Inference.InferenceModel"/> wrapper itself
    /// runs in inference mode, which records no gradients.
    /// </remarks>
    public static IReadOnlyList<GradCamMap> Compute(ZooModel model, Tensor images, int? targetClass = null, string? layer = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(images);
        using var safety = NativeSafety.Hold();
        string modelName = model.GetName();
        model.Input.Validate(images, modelName);
        // Grad-CAM computes in float32 (or float64): a bf16 model's rounded weights and gradients would give another map
        // than the one its float32 weights stand for, and its layers refuse float32 images.
        if (model.parameters().FirstOrDefault(p => p.dtype is ScalarType.BFloat16 or ScalarType.Float16) is { } rounded)
            throw new InvalidChoiceException($"Grad-CAM computes in float32; {modelName} has {rounded.dtype} weights. Optimise it " +
                                        "with InferencePrecision.Float32 (the default) or explain the plain model");
        if (targetClass is int wanted && (wanted < 0 || wanted >= model.NumClasses))
            throw new ArgumentOutOfRangeException(nameof(targetClass), wanted,
                $"{modelName} has {model.NumClasses} classes; expected a class index from 0 to {model.NumClasses - 1}");
        var target = layer is null ? null : FindLayer(model, layer);

        Tensor? activation = null;
        int calls = 0;
        // The model computes on from a copy, so later in-place operations (an in-place ReLU) or a caller disposing the
        // layer's output cannot change or free the activation the gradient is taken against.
        Tensor Tap(Tensor output)
        {
            calls++;
            activation?.Dispose();
            activation = output.detach().clone().requires_grad_(true).DetachFromDisposeScope();
            return activation.clone();
        }

        var flags = model.modules().Prepend(model).Select(m => (Module: m, m.training)).ToList();
        var hook = target?.register_forward_hook((_, _, output) => Tap(output));
        try
        {
            model.eval();
            using var gradients = enable_grad();
            using var scope = NewDisposeScope();
            var device = model.parameters().Select(p => p.device).FirstOrDefault() ?? images.device;
            var x = images.to(device);
            var logits = target is null ? model.ForwardHead(Tap(model.ForwardFeatures(x))) : model.call(x);

            string where = layer is null ? "the convolutional body" : $"layer '{layer}'";
            if (calls == 0 || activation is null)
                throw new InvalidChoiceException($"{modelName}: {where} did not run in the eval-mode forward pass (an auxiliary " +
                                            "head?); choose a layer on the path from the input to the logits");
            if (calls > 1)
                throw new InvalidChoiceException($"{modelName}: {where} runs {calls} times in one forward pass (a module used " +
                                            "twice, such as a shared ReLU), so it has no single activation; choose its " +
                                            "parent block or a layer that runs once");
            if (activation.dim() != 4)
                throw new InvalidChoiceException($"{modelName}: Grad-CAM needs a layer with an N x C x H x W output; {where} " +
                                            $"gives [{string.Join(", ", activation.shape)}]; choose a convolutional layer or block");

            long n = logits.shape[0];
            var classes = targetClass is int c ? full([n], c, ScalarType.Int64, device) : logits.argmax(1);
            var score = logits.gather(1, classes.unsqueeze(1)).sum();   // images are independent in eval mode
            var gradient = autograd.grad([score], [activation])[0];      // N x K x h x w
            var weights = gradient.mean([2, 3], keepdim: true);          // N x K x 1 x 1
            using (no_grad())
            {
                // A float64 model (the reference tests run one) still gives float32 maps.
                var cam = nn.functional.relu((weights * activation).sum(1)).to(ScalarType.Float32).cpu().contiguous();   // N x h x w
                var probabilities = nn.functional.softmax(logits, 1).to(ScalarType.Float32).cpu().contiguous();
                long[] picked = classes.cpu().data<long>().ToArray();
                int h = (int)cam.shape[1], w = (int)cam.shape[2], classCount = (int)probabilities.shape[1];
                float[] camValues = cam.data<float>().ToArray(), probabilityValues = probabilities.data<float>().ToArray();
                var maps = new List<GradCamMap>((int)n);
                for (int i = 0; i < n; i++)
                {
                    var values = new float[h, w];
                    Buffer.BlockCopy(camValues, i * h * w * sizeof(float), values, 0, h * w * sizeof(float));
                    maps.Add(new GradCamMap(layer, (int)picked[i], probabilityValues[(i * classCount)..((i + 1) * classCount)], values));
                }
                return maps;
            }
        }
        finally
        {
            hook?.remove();
            foreach (var (module, training) in flags) module.train(training);
            activation?.Dispose();
        }
    }

    /// <summary>The module named <paramref name="layer"/>; an unknown name gets the model's top-level names as examples.</summary>
    static nn.Module<Tensor, Tensor> FindLayer(ZooModel model, string layer)
    {
        foreach (var (name, module) in model.named_modules())
        {
            if (name != layer) continue;
            return module as nn.Module<Tensor, Tensor>
                   ?? throw new InvalidChoiceException($"{model.GetName()}: layer '{layer}' is a {module.GetType().Name}, which " +
                                                  "does not map one tensor to one tensor; choose a convolutional layer or block");
        }
        string topLevel = string.Join(", ", model.named_children().Select(c => c.name));
        throw new InvalidChoiceException($"{model.GetName()} has no layer '{layer}'; layer names are module names as in the " +
                                    $"state dict, e.g. the top-level {topLevel}, or nested ones such as '<top-level>.0'");
    }
}
