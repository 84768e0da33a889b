using Cnn.Zoo.Models;

namespace Cnn.Zoo;

/// <summary>A registered model: its name, what it is, where it comes from, and how to build it.</summary>
/// <param name="Name">torchvision's name where torchvision has the model (<c>resnet50</c>), else ours (<c>lenet5</c>).</param>
/// <param name="Paper">The source paper.</param>
/// <param name="InTorchVision">True when torchvision 0.14 has the same architecture and keys.</param>
/// <param name="Create">Builds the model for a class count and named options.</param>
/// <param name="DefaultClasses">The class count of the data set the architecture was designed for.</param>
/// <param name="TrainingOptions">Options the command line's training recipe builds the model with where they differ
/// from the paper's defaults that <see cref="ModelRegistry.Create"/> uses (LeNet-5 trains with ReLU and max pooling).</param>
public sealed record ModelEntry(string Name, string Paper, bool InTorchVision,
                                Func<int, ModelOptions, ZooModel> Create, int DefaultClasses = 1000,
                                IReadOnlyList<string>? TrainingOptions = null);
