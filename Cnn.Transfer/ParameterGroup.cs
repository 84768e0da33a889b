using TorchSharp.Modules;

namespace Cnn.Transfer;

/// <summary>A set of parameters trained at their own base learning rate (discriminative fine-tuning); turned into an
/// optimizer's groups by <see cref="ParameterGroups.ForAdam"/>, <see cref="ParameterGroups.ForAdamW"/> or
/// <see cref="ParameterGroups.ForSgd"/>.</summary>
public sealed record ParameterGroup(IReadOnlyList<Parameter> Parameters, double LearningRate);
