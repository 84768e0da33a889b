using Cnn.Zoo;
using Cnn.Zoo.Models;
using TorchSharp.Modules;

namespace Cnn.Transfer;

/// <summary>
/// Learning rates that grow towards the head ("discriminative fine-tuning", Howard &amp; Ruder, "Universal Language
/// Model Fine-tuning for Text Classification", 2018, as fastai applies it to CNNs): early layers hold general features
/// that need little change, the new head needs the most.
/// </summary>
public static class ParameterGroups
{
    /// <summary>
    /// Splits the trainable parameters into <paramref name="groups"/> groups in forward order: the last is the head
    /// (classifier and any auxiliary heads) at <paramref name="headLearningRate"/>; the trainable weight layers before
    /// it (with their batch norms) are split into <c>groups - 1</c> contiguous groups of near-equal layer counts
    /// (earlier groups take the remainder), the k-th group before the head at
    /// <c>headLearningRate * decayPerGroup^k</c>. With <c>groups = 1</c> every trainable parameter gets the head's rate.
    /// Frozen parameters are left out, so freeze first.
    /// </summary>
    /// <returns>Groups from the input side to the head; rates increase along the list.</returns>
    public static IReadOnlyList<ParameterGroup> Discriminative(
        ZooModel model, double headLearningRate, double decayPerGroup, int groups)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!(headLearningRate > 0) || double.IsInfinity(headLearningRate))
            throw new InvalidChoiceException($"expected a positive learning rate; found {headLearningRate}");
        if (!(decayPerGroup > 0 && decayPerGroup <= 1))
            throw new InvalidChoiceException($"expected a learning-rate decay per group in (0, 1]; found {decayPerGroup}");
        if (groups < 1)
            throw new InvalidChoiceException($"expected at least 1 parameter group; found {groups}");

        var parameters = model.named_parameters().Where(p => p.parameter.requires_grad).ToList();
        if (parameters.Count == 0)
            throw new InvalidChoiceException($"{model.GetName()} has no trainable parameters; unfreeze some first");
        if (groups == 1)
            return [new ParameterGroup(parameters.Select(p => p.parameter).ToList(), headLearningRate)];

        var map = LayerMap.Of(model);
        bool IsHead(string name) => map.Heads.Any(h => StateKeys.IsUnder(name, h));

        // Layer number of every trainable body parameter; parameters outside any weight layer or its norm go with the
        // parameter registered just before them (registration order follows the forward pass in every zoo model).
        var layerOf = new Dictionary<string, int>();
        foreach (var layer in map.Layers)
        {
            foreach (var (name, _) in parameters)
            {
                if (!IsHead(name) && layer.Prefixes.Any(prefix => StateKeys.IsUnder(name, prefix))) layerOf[name] = layer.Number;
            }
        }
        int? previous = null;
        foreach (var (name, _) in parameters)
        {
            if (IsHead(name)) continue;
            if (layerOf.TryGetValue(name, out int n)) previous = n;
            else if (previous is int p) layerOf[name] = p;
        }
        int firstLayer = layerOf.Count == 0 ? 0 : layerOf.Values.Min();
        foreach (var (name, _) in parameters)
        {
            if (!IsHead(name)) layerOf.TryAdd(name, firstLayer);
        }

        var bodyLayers = layerOf.Values.Distinct().Order().ToList();
        int bodyGroups = groups - 1;
        if (bodyLayers.Count < bodyGroups)
            throw new InvalidChoiceException(
                $"{model.GetName()} has {bodyLayers.Count} trainable weight layers besides the head, so at most {bodyLayers.Count + 1} groups; found {groups}");
        var head = parameters.Where(p => IsHead(p.name)).Select(p => p.parameter).ToList();
        if (head.Count == 0)
            throw new InvalidChoiceException($"the head of {model.GetName()} ({string.Join(", ", map.Heads)}) is frozen; unfreeze it first");

        // Contiguous near-equal split of the layer list (as numpy.array_split): the first (count % groups) get one more.
        var groupOfLayer = new Dictionary<int, int>();
        int size = bodyLayers.Count / bodyGroups, extra = bodyLayers.Count % bodyGroups, index = 0;
        for (int g = 0; g < bodyGroups; g++)
        {
            int take = size + (g < extra ? 1 : 0);
            for (int i = 0; i < take; i++) groupOfLayer[bodyLayers[index++]] = g;
        }

        var result = new List<ParameterGroup>();
        for (int g = 0; g < bodyGroups; g++)
        {
            var members = parameters.Where(p => !IsHead(p.name) && groupOfLayer[layerOf[p.name]] == g).Select(p => p.parameter).ToList();
            result.Add(new ParameterGroup(members, headLearningRate * Math.Pow(decayPerGroup, bodyGroups - g)));
        }
        result.Add(new ParameterGroup(head, headLearningRate));
        return result;
    }

    /// <summary>The groups as Adam parameter groups: <c>torch.optim.Adam(groups.ForAdam())</c>.</summary>
    public static IEnumerable<Adam.ParamGroup> ForAdam(
        this IEnumerable<ParameterGroup> groups, double weightDecay = 0)
        => groups.Select(g => new Adam.ParamGroup(g.Parameters, lr: g.LearningRate, weight_decay: weightDecay)).ToList();

    /// <summary>The groups as AdamW parameter groups: <c>torch.optim.AdamW(groups.ForAdamW())</c>.</summary>
    public static IEnumerable<AdamW.ParamGroup> ForAdamW(
        this IEnumerable<ParameterGroup> groups, double weightDecay = 0.01)
        => groups.Select(g => new AdamW.ParamGroup(g.Parameters, lr: g.LearningRate, weight_decay: weightDecay)).ToList();

    /// <summary>The groups as SGD parameter groups: <c>torch.optim.SGD(groups.ForSgd(), learningRate)</c>.</summary>
    public static IEnumerable<SGD.ParamGroup> ForSgd(
        this IEnumerable<ParameterGroup> groups, double momentum = 0.9,
        double weightDecay = 0, bool nesterov = false)
        => groups.Select(g => new SGD.ParamGroup(g.Parameters, lr: g.LearningRate, momentum: momentum,
                                                 weight_decay: weightDecay, nesterov: nesterov)).ToList();
}
