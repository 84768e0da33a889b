using static TorchSharp.torch;

namespace Cnn.Zoo.Models;

/// <summary>A model that, in training, also returns auxiliary logits whose loss is added with a weight.</summary>
public interface IAuxiliaryClassifiers
{
    /// <summary>True when the auxiliary heads exist and are used by <see cref="ForwardWithAuxiliary"/>.</summary>
    bool HasAuxiliary { get; }

    /// <summary>
    /// Names of the auxiliary heads (their state-dict prefixes), whether or not this instance built them: a weights
    /// file made with the heads can then be loaded into a model without them, dropping those keys knowingly.
    /// </summary>
    IReadOnlyList<string> AuxiliaryNames { get; }

    /// <summary>Weight of each auxiliary loss in the total loss (0.3 in the GoogLeNet paper).</summary>
    double AuxiliaryWeight { get; }

    /// <summary>Main logits plus the auxiliary logits (empty outside training or without auxiliary heads).</summary>
    (Tensor Logits, Tensor[] Auxiliary) ForwardWithAuxiliary(Tensor x);
}
