using Cnn.Zoo.Inference;
using Cnn.Zoo.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cnn.Zoo.Models;

/// <summary>
/// The face every zoo model shows (after timm's): the convolutional body and the head can be run separately, the
/// classifier can be swapped for a new number of classes, and the names of the first convolution and of the
/// classifier are known, so transfer-learning code needs no per-model branches.
/// </summary>
public abstract class ZooModel : nn.Module<Tensor, Tensor>
{
    // Before the first model runs a convolution: libtorch's oneDNN kernels are wrong on some virtual CPUs; and, where
    // libtorch is not loaded yet, OpenMP threads that sleep instead of spinning on a shared machine.
    static ZooModel()
    {
        NativeEnvironment.EnsurePassiveOpenMpWaits();
        OneDnnGuard.Ensure();
    }

    /// <param name="blank">Builds the model again with the same constructor arguments, for a given number of classes
    /// (<see cref="Copy"/>).</param>
    protected ZooModel(string name, InputSpec input, int numClasses, Func<int, ZooModel> blank) : base(name)
    {
        if (numClasses < 1) throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "expected at least 1 class");
        ArgumentNullException.ThrowIfNull(blank);
        Input = input;
        NumClasses = numClasses;
        this.blank = blank;
    }

    readonly Func<int, ZooModel> blank;

    /// <summary>What the model accepts; <see cref="forward"/> checks every batch against it.</summary>
    public InputSpec Input { get; }

    /// <summary>Number of outputs of the classifier.</summary>
    public int NumClasses { get; private set; }

    /// <summary>Channels of the feature map that <see cref="ForwardFeatures"/> returns.</summary>
    public abstract long NumFeatures { get; }

    /// <summary>State-dict prefix of the final linear layer, e.g. <c>fc</c> or <c>classifier.6</c>.</summary>
    public abstract string ClassifierName { get; }

    /// <summary>State-dict prefix of the first convolution, e.g. <c>conv1</c> or <c>features.0</c>.</summary>
    public abstract string FirstConvName { get; }

    /// <summary>The convolutional body: N x C x H x W in, N x <see cref="NumFeatures"/> x h x w out.</summary>
    public abstract Tensor ForwardFeatures(Tensor x);

    /// <summary>Pooling, hidden fully-connected layers (if any) and the classifier: feature map in, logits out.</summary>
    public abstract Tensor ForwardHead(Tensor features);

    /// <summary>Replaces the final linear layer with a freshly initialised one for <paramref name="numClasses"/> classes.</summary>
    public void ResetClassifier(int numClasses)
    {
        if (numClasses < 1) throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "expected at least 1 class");
        ReplaceClassifier(numClasses);
        NumClasses = numClasses;
    }

    /// <summary>Swaps the model's final linear layer; the base class has validated the count.</summary>
    protected abstract void ReplaceClassifier(int numClasses);

    /// <summary>
    /// A second model with this one's architecture, classes, weights, buffers, frozen parameters and train/eval mode,
    /// on the same device (PyTorch's <c>copy.deepcopy(model)</c>): what is done to either, training or
    /// <see cref="InferenceModel.Optimize"/>, leaves the other alone. It draws nothing from libtorch's random generator
    /// (the blank model's initial weights are drawn and then overwritten, with the generator's state put back), so
    /// copying in the middle of training does not change what training draws next.
    /// </summary>
    /// <exception cref="InvalidOperationException">This model's batch norms were folded for inference; copy it before.</exception>
    public ZooModel Copy()
    {
        if (IsInferenceOnly)
            throw new InvalidOperationException($"{GetName()} has its batch norms folded for inference and cannot be copied; copy it before optimising it");
        using var safety = NativeSafety.Hold();   // the copies are made by native calls (NativeSafety)
        ZooModel copy;
        using (var random = torch.get_rng_state())
        {
            copy = blank(NumClasses);
            torch.set_rng_state(random);
        }
        var first = parameters().FirstOrDefault();
        if (first is not null) copy.to(first.device).to(first.dtype);
        var source = state_dict();
        var target = copy.state_dict();
        if (!source.Keys.ToHashSet().SetEquals(target.Keys))
            throw new InvalidOperationException($"{GetName()}: a model built with the same arguments has other state keys " +
                                                $"({string.Join(", ", source.Keys.Except(target.Keys).Concat(target.Keys.Except(source.Keys)).Take(5))})");
        using (no_grad())
        {
            foreach (var (key, tensor) in target) tensor.copy_(source[key]);
        }
        var trainable = named_parameters().ToDictionary(p => p.name, p => p.parameter.requires_grad);
        foreach (var (name, parameter) in copy.named_parameters()) parameter.requires_grad = trainable[name];
        copy.train(training);
        return copy;
    }

    /// <summary>
    /// The state dict in PyTorch's order: each module's own parameters, then its own buffers, then its children, depth
    /// first. (TorchSharp lists all parameters before all buffers; a file saved in that order would differ from
    /// torchvision's key order.)
    /// </summary>
    public override Dictionary<string, Tensor> state_dict(Dictionary<string, Tensor>? destination = null, string? prefix = null)
    {
        var unordered = base.state_dict(null, prefix);
        destination ??= [];
        // TorchSharp's named_modules() is not depth-first, so walk the children ourselves.
        void Walk(nn.Module module, string path)
        {
            var own = module.named_parameters(recurse: false).Select(p => p.name)
                .Concat(module.named_buffers(recurse: false).Select(b => b.name));
            foreach (string name in own)
            {
                if (unordered.TryGetValue(path + name, out var tensor)) destination[path + name] = tensor;
            }
            foreach (var (name, child) in module.named_children()) Walk(child, path + name + ".");
        }
        Walk(this, prefix is null or "" ? "" : prefix + ".");
        foreach (var (key, value) in unordered) destination.TryAdd(key, value);
        return destination;
    }

    /// <summary>True once batch norms were folded away (<see cref="Inference.InferenceModel"/>): training would be wrong.</summary>
    public bool IsInferenceOnly { get; private set; }

    internal void MarkInferenceOnly() => IsInferenceOnly = true;

    public override void train(bool on = true)
    {
        if (on && IsInferenceOnly)
            throw new InvalidOperationException($"{GetName()} has its batch norms folded for inference and cannot be trained; build a fresh model");
        base.train(on);
    }

    public override Tensor forward(Tensor x)
    {
        // Between two batches the caller is in no libtorch call: queued finalizers may run (NativeSafety).
        NativeSafety.SafePoint();
        Input.Validate(x, GetName());
        using var scope = NewDisposeScope();
        return ForwardHead(ForwardFeatures(x)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// A copy of <paramref name="sequence"/> whose last layer is <paramref name="last"/>, with the same child names,
    /// so state-dict keys such as <c>classifier.6.weight</c> stay those of the original.
    /// </summary>
    protected static Sequential WithLastReplaced(Sequential sequence, nn.Module<Tensor, Tensor> last)
    {
        var children = sequence.named_children().ToList();
        var items = new List<(string, nn.Module<Tensor, Tensor>)>();
        for (int i = 0; i < children.Count - 1; i++)
            items.Add((children[i].name, (nn.Module<Tensor, Tensor>)children[i].module));
        items.Add((children[^1].name, last));
        return nn.Sequential(items);
    }

    /// <summary>
    /// Re-registers the last children of the model, in the given order, with new or existing modules (null drops one).
    /// Every zoo model registers its head last, so replacing the tail keeps the state-dict key order.
    /// </summary>
    protected void ReplaceTail(params (string Name, nn.Module? Module)[] tail)
    {
        foreach (var (name, _) in tail) register_module(name, null!);
        foreach (var (name, module) in tail)
        {
            if (module is not null) register_module(name, module);
        }
    }
}
