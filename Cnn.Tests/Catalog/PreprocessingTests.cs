using Cnn.Training.Data;
using Cnn.Transfer.Catalog;
using Cnn.Zoo;
using Cnn.Zoo.Models;

namespace Cnn.Tests.Catalog;

/// <summary>
/// Evaluation transforms: from a weights entry's preprocessing, and for fine-tuning at a chosen size, where evaluation
/// must see the images at the scale training saw them.
/// </summary>
[TestClass]
public sealed class PreprocessingTests
{
    static readonly InputSpec Rgb224 = new(3, 224, 224, 32, 32);

    /// <summary>A grey 28x28 image: a white one-pixel frame around black.</summary>
    static ImageData FramedDigit()
    {
        var pixels = new float[28 * 28];
        for (int y = 0; y < 28; y++)
        for (int x = 0; x < 28; x++)
            pixels[y * 28 + x] = x == 0 || y == 0 || x == 27 || y == 27 ? 1f : 0f;
        return new ImageData(pixels, 1, 28, 28);
    }

    [TestMethod]
    public void WithoutAugmentation_EvaluationSeesTheWholeImageAsTrainingDoes()
    {
        var (train, eval) = DataSetup.Pipeline(SampleGeometry.Of(FramedDigit()), Rgb224, DataSetup.ForTraining("", SampleGeometry.Of(FramedDigit()), 3, 112, augment: false), augment: false);
        var seenInTraining = train.Apply(FramedDigit(), new Random(0));
        var seenInEvaluation = eval.Apply(FramedDigit(), new Random(0));
        Assert.AreEqual("3x112x112", seenInEvaluation.ToString());
        CollectionAssert.AreEqual(seenInTraining.Pixels, seenInEvaluation.Pixels);
        // The frame survives: the corner pixel is white, (1 - 0.485) / 0.229 with ImageNet's statistics (an RGB model).
        Assert.AreEqual((1 - 0.485f) / 0.229f, seenInEvaluation.Pixels[0], 1e-5f);
    }

    [TestMethod]
    public void WithRandomResizedCrops_EvaluationResizesBy1Over0875AndCrops()
    {
        // torchvision's reference recipe: train on random-resized crops, evaluate resize 128 + centre crop 112. The
        // frame (1 pixel of 28, about 4.6 of 128) lies outside the central 112, so the corner is black, -0.485 / 0.229.
        var (_, eval) = DataSetup.Pipeline(SampleGeometry.Of(FramedDigit()), Rgb224, DataSetup.ForTraining("", SampleGeometry.Of(FramedDigit()), 3, 112, augment: true), augment: true);
        var seen = eval.Apply(FramedDigit(), new Random(0));
        Assert.AreEqual("3x112x112", seen.ToString());
        Assert.AreEqual(-0.485f / 0.229f, seen.Pixels[0], 1e-5f);
    }

    [TestMethod]
    public void WeightsPreprocessing_BuildsTheEvaluationTransform()
    {
        var entry = WeightsCatalog.Default.Get("resnet50", "IMAGENET1K_V2");
        var grey = new ImageData(Enumerable.Repeat(0.5f, 300 * 400).ToArray(), 1, 300, 400);
        var (_, eval) = DataSetup.Pipeline(SampleGeometry.Of(grey), Rgb224, entry.Preprocessing, augment: false);
        var seen = eval.Apply(grey, new Random(0));
        Assert.AreEqual("3x224x224", seen.ToString());
        double[] mean = [0.485, 0.456, 0.406], std = [0.229, 0.224, 0.225];
        for (int c = 0; c < 3; c++)
            Assert.AreEqual((0.5 - mean[c]) / std[c], seen.Pixels[c * 224 * 224 + 1234], 1e-5, $"channel {c}");
    }

    [TestMethod]
    public void WeightsPreprocessing_ResizesTheShorterSideThenCropsTheCentre()
    {
        // A 232x464 image is already at resize 232; the central 224x224 crop spans columns 120-343, inside the black
        // middle (columns 116-347) between white outer quarters. Squashing or an off-centre crop would let white in.
        var preprocessing = new Preprocessing(232, 224, [0.0], [1.0]);
        var pixels = new float[232 * 464];
        for (int y = 0; y < 232; y++)
        for (int x = 0; x < 464; x++)
            pixels[y * 464 + x] = x < 116 || x >= 348 ? 1f : 0f;
        var image = new ImageData(pixels, 1, 232, 464);
        var (_, eval) = DataSetup.Pipeline(SampleGeometry.Of(image), new InputSpec(1, 224, 224, 32, 32), preprocessing, augment: false);
        var seen = eval.Apply(image, new Random(0));
        Assert.AreEqual("1x224x224", seen.ToString());
        Assert.AreEqual(0f, seen.Pixels.Max(), "only the black middle is left");
    }

    [TestMethod]
    public void PlainWeightsFile_UsesTorchVisionsImageNetDefault()
    {
        var imageNet = Preprocessing.ImageNet;
        Assert.AreEqual(256, imageNet.ResizeSize);
        Assert.AreEqual(224, imageNet.CropSize);
        CollectionAssert.AreEqual(new[] { 0.485, 0.456, 0.406 }, imageNet.Mean.ToArray());
        CollectionAssert.AreEqual(new[] { 0.229, 0.224, 0.225 }, imageNet.Std.ToArray());
        Assert.AreEqual(imageNet, WeightsCatalog.Default.Get("resnet18").Preprocessing, "torchvision's V1 weights use the default");
    }

    [TestMethod]
    public void Preprocessing_RefusesWhatCannotBeDone()
    {
        Assert.ThrowsExactly<InvalidChoiceException>(() => new Preprocessing(200, 224, [0.5], [0.5]));
        Assert.ThrowsExactly<InvalidChoiceException>(() => new Preprocessing(256, 224, [0.5, 0.5], [0.5]));
        Assert.ThrowsExactly<InvalidChoiceException>(() => new Preprocessing(256, 224, [0.5], [0.0]));
        var bicubic = new Preprocessing(256, 224, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5], "bicubic");
        var error = Assert.ThrowsExactly<InvalidChoiceException>(() => DataSetup.Pipeline(SampleGeometry.Of(FramedDigit()), Rgb224, bicubic, augment: false));
        StringAssert.Contains(error.Message, "bicubic");
    }
}
