using Cnn.Zoo.Analysis;
using Cnn.Zoo.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cnn.Tests.Zoo;

/// <summary>
/// Grad-CAM without a reference: a small network learns images whose class is the colour of a bright patch at a random
/// place on a noisy background, next to an equally bright grey patch that says nothing about the class. On held-out
/// images the heat map must peak on the coloured patch, not on the grey one or the noise.
/// </summary>
[TestClass]
public sealed class GradCamLocalisationTests
{
    const int Size = 32, Patch = 6, Classes = 3;

    /// <summary>
    /// Three convolutions with batch norm (trained in seconds) and a global-average-pooled linear head; the body's
    /// output is 16 x 16, one cell per 2 x 2 pixels.
    /// </summary>
    sealed class PatchNet : ZooModel
    {
        private readonly Sequential features;
        private Linear fc;

        public PatchNet() : base("patchnet", new InputSpec(3, Size, Size, Size, Size, FixedSize: true), Classes, _ => new PatchNet())
        {
            features = nn.Sequential(
                nn.Conv2d(3, 8, 3, padding: 1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2, 2),   // N x 8 x 16 x 16
                nn.Conv2d(8, 16, 3, padding: 1), nn.BatchNorm2d(16), nn.ReLU(),
                nn.Conv2d(16, 16, 3, padding: 1), nn.BatchNorm2d(16), nn.ReLU());
            fc = nn.Linear(16, Classes);
            RegisterComponents();
        }

        public override long NumFeatures => 16;
        public override string ClassifierName => "fc";
        public override string FirstConvName => "features.0";
        public override Tensor ForwardFeatures(Tensor x) => features.call(x);

        public override Tensor ForwardHead(Tensor features)
        {
            using var scope = NewDisposeScope();
            return fc.call(nn.functional.adaptive_avg_pool2d(features, 1).flatten(1)).MoveToOuterDisposeScope();
        }

        protected override void ReplaceClassifier(int numClasses)
        {
            fc = nn.Linear(NumFeatures, numClasses);
            ReplaceTail(("fc", fc));
        }
    }

    /// <summary>Images, labels and each coloured patch's top-left corner.</summary>
    static (float[] Pixels, long[] Labels, (int Y, int X)[] Patches) Synthetic(int count, Random rng)
    {
        int plane = Size * Size;
        var pixels = new float[count * 3 * plane];
        var labels = new long[count];
        var patches = new (int, int)[count];
        for (int n = 0; n < count; n++)
        {
            int label = rng.Next(Classes);
            var image = pixels.AsSpan(n * 3 * plane, 3 * plane);
            for (int i = 0; i < image.Length; i++) image[i] = 0.1f + 0.3f * rng.NextSingle();
            (int y, int x) coloured, grey;
            do
            {
                coloured = (rng.Next(Size - Patch + 1), rng.Next(Size - Patch + 1));
                grey = (rng.Next(Size - Patch + 1), rng.Next(Size - Patch + 1));
            }
            while (Math.Abs(coloured.y - grey.y) < Patch + 2 && Math.Abs(coloured.x - grey.x) < Patch + 2);
            for (int y = 0; y < Patch; y++)
            for (int x = 0; x < Patch; x++)
            {
                for (int c = 0; c < 3; c++) image[c * plane + (grey.y + y) * Size + grey.x + x] = 0.9f + 0.1f * rng.NextSingle();
                image[label * plane + (coloured.y + y) * Size + coloured.x + x] = 0.9f + 0.1f * rng.NextSingle();
            }
            labels[n] = label;
            patches[n] = coloured;
        }
        return (pixels, labels, patches);
    }

    [TestMethod]
    [TestCategory("Slow")]   // trains a small network for 64 steps first
    public void HeatMapPeaksOnTheBrightPatchThatDecidesTheClass()
    {
        torch.manual_seed(7);
        var rng = new Random(7);
        using var model = new PatchNet();
        var (trainPixels, trainLabels, _) = Synthetic(1024, rng);
        var (testPixels, testLabels, testPatches) = Synthetic(200, rng);

        using (var optimizer = optim.Adam(model.parameters(), lr: 1e-2))
        {
            model.train();
            const int batch = 64, epochs = 4;
            for (int epoch = 0; epoch < epochs; epoch++)
            {
                // A last epoch at a tenth of the rate lets the batch norms' running statistics catch up with the
                // weights; at the full rate they lag, and eval-mode predictions (Grad-CAM's) drift from training's.
                optimizer.ParamGroups.First().LearningRate = epoch < epochs - 1 ? 1e-2 : 1e-3;
                for (int start = 0; start < trainLabels.Length; start += batch)
                {
                    using var scope = NewDisposeScope();
                    var x = torch.tensor(trainPixels.AsSpan(start * 3 * Size * Size, batch * 3 * Size * Size).ToArray(), [batch, 3, Size, Size]);
                    var y = torch.tensor(trainLabels.AsSpan(start, batch).ToArray());
                    var loss = nn.functional.cross_entropy(model.call(x), y);
                    optimizer.zero_grad();
                    loss.backward();
                    optimizer.step();
                }
            }
        }

        using var images = torch.tensor(testPixels, [testLabels.Length, 3, Size, Size]);
        var maps = GradCam.Compute(model, images);
        int correct = 0, onPatch = 0;
        for (int n = 0; n < maps.Count; n++)
        {
            if (maps[n].Class == testLabels[n]) correct++;
            // Body cell (cy, cx) covers input pixels [2cy, 2cy + 2) x [2cx, 2cx + 2): it is on the patch if they overlap.
            var (cy, cx, _) = maps[n].Peak();
            var (py, px) = testPatches[n];
            if (2 * cy + 2 > py && 2 * cy < py + Patch && 2 * cx + 2 > px && 2 * cx < px + Patch) onPatch++;
        }
        Console.WriteLine($"held-out: {correct}/{maps.Count} classified correctly, heat-map peak on the coloured patch for {onPatch}/{maps.Count}");
        Assert.IsTrue(correct >= 0.95 * maps.Count, $"the network did not learn the task: {correct}/{maps.Count} correct");
        Assert.IsTrue(onPatch >= 0.9 * maps.Count, $"the peak fell on the coloured patch for only {onPatch}/{maps.Count} images");
    }
}
