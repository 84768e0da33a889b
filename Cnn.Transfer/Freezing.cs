using Cnn.Zoo;
using Cnn.Zoo.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cnn.Transfer;

/// <summary>
/// Freezing parts of a model for transfer learning (Yosinski et al., "How transferable are features in deep neural
/// networks?", 2014: early layers are general, late ones task-specific). A frozen parameter has
/// <c>requires_grad = false</c>; build the optimizer from <see cref="TrainableParameters"/> afterwards and switch
/// modes with <see cref="SetTrainingMode"/>, so frozen batch norms keep their running statistics too.
/// </summary>
public static class Freezing
{
    /// <summary>
    /// Freezes the first <paramref name="layers"/> weight layers in forward order, numbered as
    /// <see cref="Cnn.Zoo.Analysis.ModelSummary.WeightLayerCount"/> defines (VGG-16 has 16, ResNet-50 has 50; a projection
    /// shortcut belongs to its block's number), together with the batch norm directly after each of them
    /// (<c>bn1</c> after <c>conv1</c>, <c>downsample.1</c> after <c>downsample.0</c>).
    /// </summary>
    /// <returns>The number of parameter tensors of those layers, now all frozen.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="layers"/> is negative or more than the model has.</exception>
    public static int FreezeFirst(ZooModel model, int layers)
    {
        ArgumentNullException.ThrowIfNull(model);
        var map = LayerMap.Of(model);
        if (layers < 0 || layers > map.Count)
            throw new InvalidChoiceException(
                $"{model.GetName()} has {map.Count} weight layers; choose between 0 and {map.Count} to freeze; found {layers}");
        var numbers = LayerNumbers(model, map);
        return SetRequiresGrad(model, p => numbers.TryGetValue(p, out int number) && number <= layers, false);
    }

    /// <summary>
    /// The weight layer each parameter belongs to (its convolution or linear layer, or the batch norm after it),
    /// numbered as <see cref="FreezeFirst"/> counts: <c>FreezeFirst(model, n)</c> freezes exactly the parameters
    /// numbered n or less. Parameters of no weight layer are absent. What a training script outside .NET (a handoff)
    /// needs to freeze the same layers.
    /// </summary>
    public static IReadOnlyDictionary<string, int> LayerNumbers(ZooModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return LayerNumbers(model, LayerMap.Of(model));
    }

    /// <summary>The state-dict prefixes <see cref="FreezeAllButHead"/> leaves trainable: the classifier, and the
    /// auxiliary classifiers of models that have them.</summary>
    public static IReadOnlyList<string> Heads(ZooModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return LayerMap.HeadsOf(model);
    }

    static Dictionary<string, int> LayerNumbers(ZooModel model, LayerMap map)
    {
        var numbers = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (name, _) in model.named_parameters())
        {
            var owners = map.Layers.Where(l => l.Prefixes.Any(prefix => StateKeys.IsUnder(name, prefix))).ToList();
            if (owners.Count > 0) numbers[name] = owners.Min(l => l.Number);
        }
        return numbers;
    }

    /// <summary>
    /// Freezes every parameter equal to or under one of <paramref name="prefixes"/> (<c>layer1</c>, <c>features.0</c>),
    /// matched one dotted component at a time. A prefix that matches no parameter is an error.
    /// </summary>
    /// <returns>The number of parameter tensors matched.</returns>
    public static int FreezeByPrefix(nn.Module model, params string[] prefixes)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (prefixes is null || prefixes.Length == 0)
            throw new InvalidChoiceException("name at least one prefix (e.g. 'layer1' or 'features.0')");
        var checkedPrefixes = CheckMatches(model, prefixes);
        return SetRequiresGrad(model, p => checkedPrefixes.Any(prefix => StateKeys.IsUnder(p, prefix)), false);
    }

    /// <summary>
    /// Freezes everything except the classifier (<see cref="ZooModel.ClassifierName"/>) and, for models with
    /// auxiliary classifiers (GoogLeNet), those heads too: the "fixed feature extractor" regime.
    /// </summary>
    /// <returns>The number of parameter tensors frozen.</returns>
    public static int FreezeAllButHead(ZooModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var heads = LayerMap.HeadsOf(model);
        return SetRequiresGrad(model, p => !heads.Any(h => StateKeys.IsUnder(p, h)), false);
    }

    /// <summary>Makes the parameters under <paramref name="prefixes"/> trainable again; no prefixes: all of them.</summary>
    public static void Unfreeze(nn.Module model, params string[] prefixes)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (prefixes is null || prefixes.Length == 0)
        {
            SetRequiresGrad(model, _ => true, true);
            return;
        }
        var checkedPrefixes = CheckMatches(model, prefixes);
        SetRequiresGrad(model, p => checkedPrefixes.Any(prefix => StateKeys.IsUnder(p, prefix)), true);
    }

    /// <summary>
    /// <c>model.train(training)</c>, after which every batch norm whose parameters are all frozen goes back to eval:
    /// in train mode it would still update its running mean and variance from the new data, so a "frozen" layer
    /// would change what it computes. Batch norms without affine parameters follow <paramref name="training"/>.
    /// </summary>
    public static void SetTrainingMode(nn.Module model, bool training)
        => TrainWithNormsInEval(model, training, norm => norm.parameters().ToList() is { Count: > 0 } parameters
                                                         && parameters.All(p => !p.requires_grad));

    /// <summary>
    /// <c>model.train(training)</c> with every batch norm kept in eval mode: their scale and shift still learn, but the
    /// running statistics stay the pretrained ones. Keras's advice for fine-tuning after unfreezing: a few hundred new
    /// images give noisy batch statistics, and re-estimating them undoes what the pretrained layers expect.
    /// </summary>
    public static void SetTrainingModeKeepingNormStatistics(nn.Module model, bool training)
        => TrainWithNormsInEval(model, training, _ => true);

    /// <summary><c>model.train(training)</c>; when training, the batch norms <paramref name="keepInEval"/> picks go back to eval.</summary>
    private static void TrainWithNormsInEval(nn.Module model, bool training, Func<BatchNorm, bool> keepInEval)
    {
        ArgumentNullException.ThrowIfNull(model);
        model.train(training);
        if (!training) return;
        foreach (var (_, module) in model.named_modules())
        {
            if (module is BatchNorm norm && keepInEval(norm)) norm.eval();
        }
    }

    /// <summary>The parameters that still require gradients: what an optimizer should receive.</summary>
    public static IEnumerable<Parameter> TrainableParameters(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.parameters().Where(p => p.requires_grad).ToList();
    }

    static int SetRequiresGrad(nn.Module model, Func<string, bool> select, bool requiresGrad)
    {
        int count = 0;
        foreach (var (name, parameter) in model.named_parameters())
        {
            if (!select(name)) continue;
            parameter.requires_grad = requiresGrad;
            count++;
        }
        return count;
    }

    /// <summary>The prefixes, each checked to match at least one parameter (a typo must not freeze nothing silently).</summary>
    static string[] CheckMatches(nn.Module model, string[] prefixes)
    {
        var result = StateKeys.CheckPrefixes(prefixes, nameof(prefixes));
        var names = model.named_parameters().Select(p => p.name).ToList();
        foreach (var prefix in result)
        {
            if (names.Any(n => StateKeys.IsUnder(n, prefix))) continue;
            var top = model.named_children().Select(c => c.name);
            throw new InvalidChoiceException(
                $"no parameter of {model.GetName()} is under '{prefix}'; its top-level modules are {string.Join(", ", top)}");
        }
        return result;
    }
}
