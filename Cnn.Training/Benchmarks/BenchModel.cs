using Cnn.Zoo;

namespace Cnn.Training.Benchmarks;

/// <summary>A model as the benchmark runs it: a registry name, model options and a square input side.</summary>
/// <param name="Label">How the tables name it, e.g. <c>resnet18_cifar</c>.</param>
public sealed record BenchModel(string Label, string Name, string[] Options, int? InputSize = null, int? Classes = null)
{
    /// <summary>The default selection: the classic nets, ImageNet-size and CIFAR-size.</summary>
    public static IReadOnlyList<BenchModel> Defaults { get; } =
    [
        Trained("lenet5"),
        new("resnet18_cifar", "resnet18", ["cifar_stem=true"], 32, 10),
        new("resnet18", "resnet18", []),
        new("resnet50", "resnet50", []),
        new("mobilenet_v2", "mobilenet_v2", []),
        new("googlenet", "googlenet", []),
        new("vgg16", "vgg16", []),
    ];

    /// <summary>A registry model as the train verb builds it (its entry's <see cref="ModelEntry.TrainingOptions"/>).</summary>
    static BenchModel Trained(string name) => new(name, name, [.. ModelRegistry.Get(name).TrainingOptions ?? []]);

    /// <summary>A default by label, or any registry name at its standard size, built as train builds it.</summary>
    public static BenchModel Parse(string label)
        => Defaults.FirstOrDefault(m => m.Label == label)
           ?? (ModelRegistry.Names.Contains(label) ? Trained(label)
               : throw new InvalidChoiceException($"--models: '{label}' is not a model; expected any of {string.Join(", ", Defaults.Select(d => d.Label).Concat(ModelRegistry.Names).Distinct())}"));
}
