namespace Cnn.Training.Training;

/// <summary>What a learning-rate range test measured and suggests.</summary>
/// <param name="Rates">The rate of each step taken (the first parameter group's).</param>
/// <param name="Losses">The smoothed, bias-corrected training loss after each step.</param>
/// <param name="Suggested">The suggested rate for the first parameter group.</param>
/// <param name="Rule">How <paramref name="Suggested"/> was picked, in words.</param>
/// <param name="Ended">Why the test stopped.</param>
public sealed record LearningRateSearch(double[] Rates, double[] Losses, double Suggested, string Rule, string Ended);
