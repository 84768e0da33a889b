using System.Collections.ObjectModel;
using Cnn.Zoo;

namespace Cnn.Transfer.Catalog;

/// <summary>
/// One set of pretrained weights for one model, as torchvision's weights enums describe them: what to build, where the
/// state dict comes from, how images must be prepared, and what the outputs mean.
/// </summary>
public sealed record WeightsEntry
{
    /// <summary>The model name users give, e.g. <c>resnet50</c> (a registry name, or a variant such as <c>resnet18_2223</c>).</summary>
    public required string Model { get; init; }

    /// <summary>The weights' name within the model, as torchvision names them, e.g. <c>IMAGENET1K_V2</c>.</summary>
    public required string Name { get; init; }

    /// <summary>True for the entry the name <c>DEFAULT</c> stands for (torchvision's best weights for the model).</summary>
    public bool IsDefault { get; init; }

    /// <summary>The registry model to build; <see cref="Model"/> unless the entry is a variant of a registered model.</summary>
    public string Architecture { get => architecture ?? Model; init => architecture = value; }
    string? architecture;

    /// <summary>Registry options the weights need (GoogLeNet's published weights: <c>transform_input=true</c>).</summary>
    public IReadOnlyDictionary<string, string> Options { get; init; } = ReadOnlyDictionary<string, string>.Empty;

    /// <summary>Outputs of the classifier the weights hold; null when they hold none (a backbone).</summary>
    public int? NumClasses { get; init; }

    /// <summary>Name of each output class, in index order; null when the weights hold no classifier.</summary>
    public IReadOnlyList<string>? Categories { get; init; }

    /// <summary>How images are prepared for these weights.</summary>
    public required Preprocessing Preprocessing { get; init; }

    /// <summary>Where the state dict comes from.</summary>
    public required IWeightsSource Source { get; init; }

    /// <summary>Parameter count as the publisher states it; null when it states none.</summary>
    public long? NumParams { get; init; }

    /// <summary>Published ImageNet-1k validation top-1 accuracy, in percent.</summary>
    public double? Acc1 { get; init; }

    /// <summary>Published ImageNet-1k validation top-5 accuracy, in percent.</summary>
    public double? Acc5 { get; init; }

    /// <summary>Link to the training recipe.</summary>
    public string? Recipe { get; init; }

    /// <summary>One line on what the weights are, where the catalog has more to say than the name.</summary>
    public string? Description { get; init; }

    /// <summary><c>model NAME</c>, e.g. <c>resnet50 IMAGENET1K_V2</c>.</summary>
    public override string ToString() => $"{Model} {Name}";
}
