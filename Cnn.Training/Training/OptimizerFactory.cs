using Cnn.Zoo;
using Cnn.Transfer;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Training.Training;

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
            throw new InvalidChoiceException("every parameter is frozen: nothing to train (unfreeze some layers)");
        // Each group carries its own rate; the optimizer's default rate only fills groups that have none.
        double lr = trainable[0].LearningRate;
        return kind switch
        {
            OptimizerKind.Sgd => optim.SGD(trainable.ForSgd(momentum, weightDecay, nesterov), lr, momentum, 0, weightDecay, nesterov),
            OptimizerKind.Adam => optim.Adam(trainable.ForAdam(weightDecay), lr, weight_decay: weightDecay),
            OptimizerKind.AdamW => optim.AdamW(trainable.ForAdamW(weightDecay), lr, weight_decay: weightDecay),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown optimizer"),
        };
    }
}
