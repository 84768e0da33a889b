using Cnn.Tests.Support;
using Cnn.Training.Data;
using Cnn.Training.Training;
using Cnn.Zoo;
using Cnn.Zoo.Layers;
using Cnn.Zoo.Models;

namespace Cnn.Tests.Training;

/// <summary>A checkpoint records its preprocessing as one record; checkpoints written before that keep their meaning.</summary>
[TestClass]
public sealed class CheckpointPreprocessingTests
{
    static CheckpointInfo Info => new() { Model = "lenet5", NumClasses = 10, InputShape = [1, 32, 32] };

    static CheckpointInfo SavedAndRead(CheckpointInfo info)
    {
        using var folder = new TempFolder("preprocessing");
        string path = folder.File("last.ckpt");
        Checkpoint.Save(path, new LeNet5(activation: Activation.ReLU), null, info);
        return Checkpoint.ReadInfo(path);
    }

    [TestMethod]
    public void TheRecordedPreprocessingComesBackWhole()
    {
        var recorded = new Preprocessing(73, 64, [0.5], [0.25]) { PadSmallSquares = false };
        var read = SavedAndRead(Info with { Preprocessing = recorded });
        Assert.AreEqual(recorded, read.EvalPreprocessing());
        Assert.IsNull(read.Mean, "the old separate fields are no longer written");
        Assert.IsNull(read.EvalResize);
    }

    [TestMethod]
    public void AnOlderCheckpointsSeparateFieldsMeanTheSameAsBefore()
    {
        // Before the record: no EvalResize meant "pad images a few pixels smaller, resize others to the input size".
        var padded = SavedAndRead(Info with { Mean = [0.1307f], Std = [0.3081f] }).EvalPreprocessing();
        Assert.AreEqual(new Preprocessing(32, 32, [(double)0.1307f], [(double)0.3081f]) { PadSmallSquares = true }, padded);
        Assert.AreEqual(2, padded.PaddingFor(28, 28), "MNIST's digits get their 2-pixel border, as in training");
        Assert.IsNull(padded.PaddingFor(40, 40), "larger images are resized");

        var resized = SavedAndRead(Info with { Mean = [0.5f], Std = [0.5f], EvalResize = 37 }).EvalPreprocessing();
        Assert.AreEqual(new Preprocessing(37, 32, [0.5], [0.5]), resized);
    }

    [TestMethod]
    public void ACheckpointWithNeitherIsRefusedWithWhatWasExpected()
    {
        var e = Assert.ThrowsExactly<InvalidDataException>(() => SavedAndRead(Info with { InputShape = [] }).EvalPreprocessing());
        StringAssert.Contains(e.Message, "written by train or finetune");
    }

    [TestMethod]
    public void TrainingFromScratchRecordsWhatItsLoadersDo()
    {
        // One formula scales a resize with the crop (finetune and export used two that disagreed): 232/224 at 100 px
        // rounds to 104.
        Assert.AreEqual(104, new Preprocessing(232, 224, Preprocessing.ImageNetMean, Preprocessing.ImageNetStd).WithCropSize(100).ResizeSize);
        Assert.AreEqual(new Preprocessing(73, 64, Preprocessing.ImageNetMean, Preprocessing.ImageNetStd),
                        DataSetup.ForTraining("folder", new SampleGeometry(3, 28, 28), 3, 64, augment: true));
        Assert.AreEqual(new Preprocessing(64, 64, Preprocessing.ImageNetMean, Preprocessing.ImageNetStd),
                        DataSetup.ForTraining("folder", new SampleGeometry(3, null, null), 3, 64, augment: false));
    }
}
