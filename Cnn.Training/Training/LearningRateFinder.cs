using Cnn.Training.Data;
using Cnn.Zoo.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Training.Training;

/// <summary>
/// Smith's learning-rate range test ("Cyclical Learning Rates for Training Neural Networks", 2017), as fastai's
/// <c>lr_find</c> runs it: from the current weights, one training step per rate while the rate grows exponentially
/// from <see cref="Start"/> to <see cref="End"/> over <see cref="Steps"/> steps; the loss is smoothed (exponential
/// average, β = 0.98, bias-corrected) and the test stops early once it exceeds 4x the best smoothed loss or is not
/// finite. The suggestion is the "valley": the longest run of steps over which the smoothed loss keeps falling, and
/// within it the rate about halfway into its middle third, a rate at which the loss still falls steeply. The weights
/// and batch-norm statistics are restored afterwards, and the optimizer passed in should be thrown away (it has state).
/// </summary>
public static class LearningRateFinder
{
    public const double Start = 1e-7, End = 10;
    public const int Steps = 100;
    const double Beta = 0.98, DivergenceFactor = 4;

    /// <summary>Runs the test. Groups keep their ratios to the first group's rate (discriminative rates stay so).</summary>
    /// <param name="batches">Training batches; cycled if the test needs more steps than they hold.</param>
    public static LearningRateSearch Run(nn.Module<Tensor, Tensor> model, optim.Optimizer optimizer, Func<IEnumerable<Batch>> batches,
                                         Device device, int steps = Steps, double start = Start, double end = End)
    {
        if (steps < 2) throw new ArgumentOutOfRangeException(nameof(steps), steps, "expected at least 2 steps");
        using var safety = NativeSafety.Hold();
        var saved = new Dictionary<string, Tensor>();
        using (no_grad())
            foreach (var (key, value) in model.state_dict()) saved[key] = value.detach().clone();
        bool wasTraining = model.training;
        var groups = optimizer.ParamGroups.ToList();
        double first = groups[0].LearningRate;
        var ratios = groups.Select(g => first > 0 ? g.LearningRate / first : 1.0).ToList();
        var rates = new List<double>();
        var losses = new List<double>();
        string? ended = null;
        try
        {
            model.train();
            double average = 0, best = double.PositiveInfinity;
            int step = 0;
            while (step < steps)
            {
                bool any = false;
                foreach (var batch in batches())
                {
                    any = true;
                    double rate = start * Math.Pow(end / start, step / (double)(steps - 1));
                    for (int g = 0; g < groups.Count; g++) groups[g].LearningRate = rate * ratios[g];
                    double loss;
                    using (batch)
                    using (NewDisposeScope())
                    {
                        NativeSafety.SafePoint();
                        optimizer.zero_grad();
                        var value = nn.functional.cross_entropy(model.call(batch.Images.to(device)), batch.Labels.to(device));
                        value.backward();
                        optimizer.step();
                        loss = value.item<float>();
                    }
                    average = Beta * average + (1 - Beta) * loss;
                    double smoothed = average / (1 - Math.Pow(Beta, step + 1));
                    rates.Add(rate);
                    losses.Add(smoothed);
                    step++;
                    if (!double.IsFinite(smoothed)) ended = $"the loss became {smoothed} at rate {rate:G3}";
                    else if (step > 1 && smoothed > DivergenceFactor * best) ended = $"the loss passed {DivergenceFactor}x its best at rate {rate:G3}";
                    else if (step == steps) ended = $"all {steps} steps taken, up to rate {rate:G3}";
                    best = Math.Min(best, smoothed);
                    if (ended is not null) break;
                }
                if (!any) throw new InvalidOperationException("the range test got no training batch");
                if (ended is not null) break;
            }
        }
        finally
        {
            using (no_grad())
            {
                var state = model.state_dict();
                foreach (var (key, value) in saved)
                {
                    state[key].copy_(value);
                    value.Dispose();
                }
            }
            model.train(wasTraining);
            for (int g = 0; g < groups.Count; g++) groups[g].LearningRate = first * ratios[g];
        }
        var (suggested, rule) = Valley([.. rates], [.. losses]);
        return new LearningRateSearch([.. rates], [.. losses], suggested, rule, ended!);
    }

    /// <summary>
    /// The valley rule: the longest sequence of steps whose smoothed losses fall (each lower than the one before it in
    /// the sequence, steps in between allowed), taken as the stretch of as many steps that ends where it ends; then the
    /// rate about halfway into the stretch's middle third. Fewer than three falling steps: a tenth of the rate with the
    /// lowest loss.
    /// </summary>
    public static (double Rate, string Rule) Valley(double[] rates, double[] losses)
    {
        int n = Math.Min(rates.Length, losses.Length);
        if (n == 0) throw new ArgumentException("no step was measured");
        // longest[i]: the most steps in a falling sequence that ends at step i.
        var longest = new int[n];
        int bestEnd = 0;
        for (int i = 0; i < n; i++)
        {
            longest[i] = 1;
            if (!double.IsFinite(losses[i])) continue;
            for (int j = 0; j < i; j++)
                if (double.IsFinite(losses[j]) && losses[j] > losses[i]) longest[i] = Math.Max(longest[i], longest[j] + 1);
            if (longest[i] > longest[bestEnd]) bestEnd = i;
        }
        int start = bestEnd - longest[bestEnd] + 1, length = bestEnd - start;
        if (longest[bestEnd] < 3)
        {
            int lowest = Enumerable.Range(0, n).Where(i => double.IsFinite(losses[i])).DefaultIfEmpty(0).MinBy(i => losses[i]);
            return (rates[lowest] / 10, $"a tenth of the rate with the lowest loss ({rates[lowest]:G3}): the loss never fell for long");
        }
        int third = length / 3;
        int index = start + third + third / 2;
        return (rates[index], $"valley: the loss falls from rate {rates[start]:G3} to {rates[bestEnd]:G3}; the suggestion lies " +
                              "halfway into the middle third of that stretch");
    }
}
