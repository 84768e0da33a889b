using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cnn.Training.Training;

public enum OptimizerKind { Sgd, Adam, AdamW }

/// <summary>A set of parameters trained at their own base learning rate (discriminative fine-tuning).</summary>
public sealed record ParameterGroup(IReadOnlyList<Parameter> Parameters, double LearningRate);

/// <summary>Builds the optimizer from parameter groups; only parameters that require gradients are passed on.</summary>
public static class OptimizerFactory
{
    public static optim.Optimizer Create(OptimizerKind kind, IEnumerable<ParameterGroup> groups, double weightDecay,
                                         double momentum = 0.9, bool nesterov = false)
    {
        var trainable = groups
            .Select(g => g with { Parameters = g.Parameters.Where(p => p.requires_grad).ToList() })
            .Where(g => g.Parameters.Count > 0)
            .ToList();
        if (trainable.Count == 0)
            throw new InvalidOperationException("every parameter is frozen: nothing to train (unfreeze some layers)");
        double lr = trainable[0].LearningRate;
        return kind switch
        {
            OptimizerKind.Sgd => optim.SGD(
                trainable.Select(g => new SGD.ParamGroup(g.Parameters, g.LearningRate, momentum, 0, weightDecay, nesterov, false)),
                lr, momentum, 0, weightDecay, nesterov),
            OptimizerKind.Adam => optim.Adam(
                trainable.Select(g => new Adam.ParamGroup(g.Parameters, g.LearningRate, 0.9, 0.999, 1e-8, weightDecay, false, false)),
                lr, weight_decay: weightDecay),
            OptimizerKind.AdamW => optim.AdamW(
                trainable.Select(g => new AdamW.ParamGroup(g.Parameters, g.LearningRate, 0.9, 0.999, 1e-8, weightDecay, false, false)),
                lr, weight_decay: weightDecay),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown optimizer"),
        };
    }
}
