namespace Cnn.Training.Training;

/// <summary>
/// The learning-rate multiplier as a pure function of the global step, so a resumed run needs only the step count
/// to continue exactly where it stopped. A linear warm-up (from 0) can precede any schedule except one-cycle.
/// </summary>
public sealed record LearningRateSchedule(ScheduleKind Kind, int TotalSteps, int StepsPerEpoch, int WarmupSteps = 0,
                                          int StepEpochs = 30, double Gamma = 0.1)
{
    const double OneCyclePctStart = 0.3, OneCycleDiv = 25.0, OneCycleFinalDiv = 1e4;

    /// <summary>Factor applied to each parameter group's base rate at <paramref name="step"/> (0-based).</summary>
    public double Factor(int step)
    {
        if (Kind == ScheduleKind.OneCycle) return OneCycle(step);
        if (WarmupSteps > 0 && step < WarmupSteps) return (step + 1.0) / WarmupSteps;
        int afterWarmup = Math.Max(0, step - WarmupSteps), span = Math.Max(1, TotalSteps - WarmupSteps);
        return Kind switch
        {
            ScheduleKind.Constant => 1.0,
            ScheduleKind.Step => Math.Pow(Gamma, step / Math.Max(1, StepEpochs * StepsPerEpoch)),
            ScheduleKind.Cosine => 0.5 * (1 + Math.Cos(Math.PI * Math.Min(1.0, afterWarmup / (double)span))),
            _ => throw new ArgumentOutOfRangeException(nameof(Kind), Kind, "unknown schedule"),
        };
    }

    double OneCycle(int step)
    {
        double peak = OneCyclePctStart * TotalSteps - 1, start = 1 / OneCycleDiv, end = start / OneCycleFinalDiv;
        static double Cos(double from, double to, double t) => to + (from - to) / 2 * (1 + Math.Cos(Math.PI * t));
        return step <= peak
            ? Cos(start, 1.0, step / Math.Max(1, peak))
            : Cos(1.0, end, Math.Min(1.0, (step - peak) / Math.Max(1, TotalSteps - 1 - peak)));
    }
}
