using Cnn.Zoo;
using Cnn.Zoo.Models;

namespace Cnn.Tests.Support;

/// <summary>The registry as test data: every test driven by it covers a model the moment it is registered.</summary>
public static class ZooModels
{
    /// <summary>Every registered model name, for <c>[DynamicData(nameof(ZooModels.All), typeof(ZooModels))]</c>.</summary>
    public static IEnumerable<object[]> All => ModelRegistry.Names.Select(n => new object[] { n });

    /// <summary>The models torchvision 0.14 has with the same keys (the ones with fixtures in Fixtures/torchvision).</summary>
    public static IEnumerable<object[]> InTorchVision => ModelRegistry.All.Where(e => e.InTorchVision).Select(e => new object[] { e.Name });

    /// <summary>
    /// The smallest square input each model takes, but at least 64x64, so the whole zoo runs quickly in CI. At 64x64
    /// the last stage is still 2x2: at 1x1 with batch 2, a training-mode batch norm cancels any per-channel shift
    /// before it, and the bias gradients would be exactly zero.
    /// </summary>
    public static long[] SmallInput(ZooModel model, int batch = 2)
        => model.Input.FixedSize
            ? [batch, model.Input.Channels, model.Input.Height, model.Input.Width]
            : [batch, model.Input.Channels, Math.Max(model.Input.MinHeight, 64), Math.Max(model.Input.MinWidth, 64)];
}
