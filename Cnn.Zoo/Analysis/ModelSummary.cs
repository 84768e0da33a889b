using System.Globalization;
using System.Text;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cnn.Zoo.Analysis;

/// <summary>
/// A torchinfo-style summary of a model, measured by running one real forward pass on a zero input with hooks on
/// every leaf module: output shapes, parameters (trainable and frozen) and multiply-accumulates per layer and in total.
/// </summary>
public sealed class ModelSummary
{
    ModelSummary(string model, long[] inputShape, IReadOnlyList<LayerRow> rows, long totalParameters, long trainableParameters)
    {
        Model = model;
        InputShape = inputShape;
        Rows = rows;
        TotalParameters = totalParameters;
        TrainableParameters = trainableParameters;
    }

    public string Model { get; }
    public long[] InputShape { get; }
    public IReadOnlyList<LayerRow> Rows { get; }
    public long TotalParameters { get; }
    public long TrainableParameters { get; }
    public long FrozenParameters => TotalParameters - TrainableParameters;
    public long TotalMacs => Rows.Sum(r => r.Macs);

    /// <summary>
    /// Number of weight layers: the convolutions and linear layers the forward pass runs, numbered in the order it
    /// runs them, a projection shortcut (<c>downsample</c>) sharing its block's number. For chains of layers this is
    /// the depth papers give (AlexNet 8, VGG-16 16, ResNet-50 50, MobileNet 28); GoogLeNet gets 58, one per
    /// convolution of every Inception branch, where its paper counts depth (22: each block is two layers deep).
    /// Freezing and learning-rate groups number layers this way (Cnn.Transfer).
    /// </summary>
    public int WeightLayerCount => Rows.Max(r => r.WeightLayer) ?? 0;

    /// <summary>Module names under a shortcut path; they share the number of the block's last main-path layer.</summary>
    public static bool IsShortcut(string name) => name.Split('.').Contains("downsample");

    /// <summary>
    /// Runs <paramref name="model"/> once in eval mode under no_grad on zeros of <paramref name="inputShape"/>
    /// ([C, H, W] or [N, C, H, W]) and records every leaf module's call. Every module's training flag is restored.
    /// </summary>
    public static ModelSummary Of(nn.Module<Tensor, Tensor> model, long[] inputShape, Device? device = null)
    {
        long[] shape = inputShape.Length == 3 ? [1, .. inputShape] : inputShape;
        var rows = new List<LayerRow>();
        var seen = new HashSet<nn.Module>();
        var hooks = new List<Action>();
        int weightLayer = 0;
        // A module without children (a bare Conv2d) is its own only leaf.
        var modules = model.children().Any() ? model.named_modules() : [("", (nn.Module)model)];
        foreach (var (name, module) in modules)
        {
            if (module.children().Any() || module is not nn.Module<Tensor, Tensor> leaf) continue;
            string layerName = name;
            var remover = leaf.register_forward_hook((m, input, output) =>
            {
                bool first = seen.Add(m);
                long samples = Math.Max(1, output.shape[0]);
                long macs = MacsPerSample(m, output, samples);
                int? number = null;
                if (m is Conv2d or Linear)
                {
                    if (!IsShortcut(layerName) || weightLayer == 0) weightLayer++;
                    number = weightLayer;
                }
                var (total, trainable) = first ? Count(m) : (0, 0);
                rows.Add(new LayerRow(layerName, m.GetType().Name, output.shape, total, trainable, macs, number));
                return output;
            });
            hooks.Add(remover.remove);
        }

        // Restore each module's own flag afterwards: a frozen batch norm kept in eval must stay in eval.
        var flags = model.modules().Prepend(model).Select(m => (m, m.training)).ToList();
        try
        {
            model.eval();
            using var _ = no_grad();
            using var scope = NewDisposeScope();
            model.call(zeros(shape, device: device));
        }
        finally
        {
            foreach (var remove in hooks) remove();
            foreach (var (m, training) in flags) m.train(training);
        }

        // Modules the forward pass did not use (auxiliary heads in eval mode) still own parameters.
        foreach (var (name, module) in modules)
        {
            if (module.children().Any() || seen.Contains(module)) continue;
            var (total, trainable) = Count(module);
            if (total > 0) rows.Add(new LayerRow(name, module.GetType().Name, null, total, trainable, 0, null));
        }

        long all = 0, grad = 0;
        foreach (var p in model.parameters())
        {
            all += p.numel();
            if (p.requires_grad) grad += p.numel();
        }
        string modelName = model is nn.Module m0 ? m0.GetName() : "model";
        return new ModelSummary(modelName, shape, rows, all, grad);
    }

    static (long Total, long Trainable) Count(nn.Module module)
    {
        long total = 0, trainable = 0;
        foreach (var p in module.parameters(recurse: false))
        {
            total += p.numel();
            if (p.requires_grad) trainable += p.numel();
        }
        return (total, trainable);
    }

    /// <summary>Convolution: each output value costs (C_in / groups) x kh x kw; linear: in_features.</summary>
    static long MacsPerSample(nn.Module module, Tensor output, long samples) => module switch
    {
        Conv2d conv => output.numel() / samples * conv.weight.shape[1] * conv.weight.shape[2] * conv.weight.shape[3],
        Linear linear => output.numel() / samples * linear.in_features,
        _ => 0,
    };

    /// <summary>The per-layer table and totals, as torchinfo prints them.</summary>
    public string ToTable(bool allLayers = true)
    {
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        string Shape(long[]? s) => s is null ? "--" : "[" + string.Join(", ", s) + "]";
        int nameWidth = Math.Max(24, Rows.Count == 0 ? 0 : Rows.Max(r => r.Name.Length) + 2);
        string header = $"{"#",4}  {"Layer (state-dict name)".PadRight(nameWidth)}{"Type",-20}{"Output shape",-22}{"Params",14}{"MACs",16}";
        sb.AppendLine($"{Model}: input [{string.Join(", ", InputShape)}]");
        sb.AppendLine(new string('=', header.Length));
        sb.AppendLine(header);
        sb.AppendLine(new string('-', header.Length));
        foreach (var r in Rows)
        {
            if (!allLayers && r.Parameters == 0 && r.Macs == 0) continue;
            string number = r.WeightLayer?.ToString(inv) ?? "";
            string parameters = r.Parameters == 0 ? "--" : r.Parameters.ToString("N0", inv) + (r.Trainable < r.Parameters ? " (frozen)" : "");
            string macs = r.Macs == 0 ? "--" : r.Macs.ToString("N0", inv);
            sb.AppendLine($"{number,4}  {r.Name.PadRight(nameWidth)}{r.Type,-20}{Shape(r.OutputShape),-22}{parameters,14}{macs,16}");
        }
        sb.AppendLine(new string('=', header.Length));
        sb.AppendLine($"Weight layers:          {WeightLayerCount}");
        sb.AppendLine($"Total parameters:       {TotalParameters.ToString("N0", inv)}");
        sb.AppendLine($"Trainable parameters:   {TrainableParameters.ToString("N0", inv)}");
        sb.AppendLine($"Frozen parameters:      {FrozenParameters.ToString("N0", inv)}");
        sb.AppendLine($"Multiply-accumulates:   {TotalMacs.ToString("N0", inv)} per image ({TotalMacs / 1e9:F2} G)");
        sb.AppendLine($"Parameter memory:       {TotalParameters * 4 / 1048576.0:F2} MB (float32)");
        return sb.ToString();
    }
}
