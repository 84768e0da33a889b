using Cnn.Transfer;
using Cnn.Training.Data;
using Cnn.Zoo;
using Cnn.Zoo.Models;

namespace Cnn.Training.Handoff;

/// <summary>What <see cref="HandoffFolder.Write"/> hands to PyTorch: a model with its weights and what using it needs,
/// and the exact split of the images it is to be trained and judged on.</summary>
/// <param name="Model">The model, weights loaded (a checkpoint's, or pretrained weights with the head for the data).</param>
/// <param name="Architecture">The registry name it was built as.</param>
/// <param name="ModelOptions">The registry options it was built with.</param>
/// <param name="Classes">Class names in output order.</param>
/// <param name="Preprocessing">How an image is prepared for it (evaluation: pad or resize, centre crop, mean, std).</param>
/// <param name="Data">The data as the command line named it (<c>mnist</c> or a folder).</param>
/// <param name="Train">The training images.</param>
/// <param name="HeldOut">The held-out images.</param>
/// <param name="Split">How <paramref name="Train"/> and <paramref name="HeldOut"/> were drawn, for the record.</param>
/// <param name="Source">The checkpoint or weights, for the folder's README.</param>
public sealed record HandoffRun(ZooModel Model, string Architecture, IReadOnlyDictionary<string, string> ModelOptions,
                                IReadOnlyList<string> Classes, Preprocessing Preprocessing,
                                string Data, IImageDataset Train, IImageDataset HeldOut, DataSplit Split, string Source);
