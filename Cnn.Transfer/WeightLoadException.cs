namespace Cnn.Transfer;

/// <summary>A strict load found missing, unexpected or wrong-shape keys; the model was not modified.</summary>
public sealed class WeightLoadException : Exception
{
    public WeightLoadException(LoadReport report)
        : base(report + Environment.NewLine + "Strict load refused; the model is unchanged. " +
               (report.Match is { IsConvincing: true }
                   ? $"Build the model the file was saved from ({report.Match.Model}), or load into this one with strict: false."
                   : "Use weights saved from this architecture, or load what fits with strict: false or skip prefixes."))
    {
        Report = report;
    }

    public LoadReport Report { get; }
}
