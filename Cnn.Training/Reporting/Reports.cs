using System.Text;
using Cnn.Training.Data;
using Cnn.Training.Training;
using Cnn.Zoo.IO;
using Cnn.Zoo.Models;

namespace Cnn.Training.Reporting;

/// <summary>What a finished run leaves in its folder besides checkpoints and metrics.csv.</summary>
public static class Reports
{
    /// <param name="heldOut">The validation loader; when given, <c>gradcam.png</c> shows where the model looks on its images.</param>
    /// <param name="epochs">The epochs the summary and the curves show; by default the run folder's own (a fine-tune
    /// passes both stages', numbered on).</param>
    public static void WriteFinal(RunFolder run, ZooModel model, CheckpointInfo info, EvaluationResult? final,
                                  DataLoader trainLoader, TrainResult result, DataLoader? heldOut = null,
                                  IReadOnlyList<Dictionary<string, double>>? epochs = null)
    {
        epochs ??= run.Epochs;
        run.WriteJson("summary.json", new
        {
            info.Model,
            info.NumClasses,
            info.Classes,
            Stop = result.Reason.ToString(),
            result.EpochsCompleted,
            result.BestMetric,
            FinalTop1 = final?.Top1,
            FinalTop5 = final?.Top5,
            FinalLoss = final?.Loss,
            Epochs = epochs,
        });
        if (final is not null) AtomicFile.WriteAllText(run.File("confusion.csv"), ConfusionCsv(final.Confusion, info.Classes));
        Plots.WriteAll(run, model, info, final, trainLoader, epochs);
        if (heldOut is not null && heldOut.Dataset.Count > 0)
            PngFile.Save(run.File("gradcam.png"),
                                    Explainer.HeldOutGrid(model, heldOut.Dataset, heldOut.Transform, info.EvalPreprocessing()));
    }

    static string ConfusionCsv(long[,] confusion, IReadOnlyList<string> classes)
    {
        var sb = new StringBuilder("true\\predicted," + string.Join(',', classes.Select(c => c.Replace(',', ' '))) + "\n");
        for (int i = 0; i < confusion.GetLength(0); i++)
        {
            sb.Append(classes[i].Replace(',', ' '));
            for (int j = 0; j < confusion.GetLength(1); j++) sb.Append(',').Append(confusion[i, j]);
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>The confusion matrix as an aligned text table (rows: true class).</summary>
    public static string ConfusionText(long[,] confusion, IReadOnlyList<string> classes)
    {
        int n = confusion.GetLength(0);
        string Short(int i)
        {
            string name = i < classes.Count ? classes[i] : i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return name.Length > 8 ? name[..8] : name;
        }
        var sb = new StringBuilder($"{"true\\pred",-10}");
        for (int j = 0; j < n; j++) sb.Append($"{Short(j),9}");
        sb.AppendLine();
        for (int i = 0; i < n; i++)
        {
            sb.Append($"{Short(i),-10}");
            for (int j = 0; j < n; j++) sb.Append($"{confusion[i, j],9}");
            sb.AppendLine();
        }
        return sb.ToString();
    }
}
