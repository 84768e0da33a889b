namespace Cnn.Training.Benchmarks;

/// <summary>One thing to time: <see cref="RunOnce"/> processes <see cref="Images"/> images.</summary>
public sealed record TimedCase(string Name, Action RunOnce, int Images);
