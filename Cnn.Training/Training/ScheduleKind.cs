namespace Cnn.Training.Training;

/// <summary>How the learning rate moves over training.</summary>
public enum ScheduleKind
{
    /// <summary>The base rate throughout.</summary>
    Constant,
    /// <summary>Multiplied by gamma every <c>StepEpochs</c> epochs.</summary>
    Step,
    /// <summary>Cosine decay from the base rate to zero (Loshchilov &amp; Hutter, SGDR, 2017).</summary>
    Cosine,
    /// <summary>Smith's one-cycle policy (2018): cosine warm-up from base/25 to base over 30% of the steps, then
    /// cosine annealing to base/25e4, as PyTorch's <c>OneCycleLR</c>.</summary>
    OneCycle,
}
