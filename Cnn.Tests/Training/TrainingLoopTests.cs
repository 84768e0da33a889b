using Cnn.Tests.Support;
using Cnn.Training.Data;
using Cnn.Training.Reporting;
using Cnn.Training.Training;
using Cnn.Zoo.IO;
using Cnn.Zoo.Layers;
using Cnn.Zoo.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Tests.Training;

/// <summary>The loop on the shipped MNIST: it learns, resumes exactly, stops on NaN, and never loses a checkpoint.</summary>
[TestClass]
public sealed class TrainingLoopTests
{
    static (DataLoader Train, DataLoader Test) Mnist(int perClass, int seed = 1)
    {
        var (train, test) = Datasets.IdxFolder(Path.Combine(TestPaths.RepoRoot, "data", "mnist"));
        var transform = Transforms.Compose(Transforms.Pad(2), Transforms.Normalize([0.1307f], [0.3081f]));
        return (new DataLoader(Datasets.Subset(train, perClass, seed), transform, 32, shuffle: true, seed),
                new DataLoader(Datasets.Subset(test, 20, seed), transform, 100, shuffle: false, seed));
    }

    static CheckpointInfo Info => new() { Model = "lenet5", NumClasses = 10, ModelOptions = new() { ["activation"] = "relu" } };

    [TestMethod]
    [TestCategory("Slow")]   // trains LeNet-5 on a few hundred digits
    public void LeNet5LearnsDigitsFromAFewHundredImages()
    {
        torch.manual_seed(1);
        var (train, test) = Mnist(perClass: 50);
        var model = new LeNet5(activation: Activation.ReLU);
        var before = Trainer.Evaluate(model, test, torch.CPU, 10);
        using var temp = new TempFolder("converge");
        var run = new RunFolder(temp.Path);
        var result = new Trainer(model, new TrainConfig { Epochs = 4, LearningRate = 2e-3 }, train, test, run, Info).Fit(log: _ => { });
        Assert.IsTrue(before.Top1 < 0.3, $"an untrained model should be near chance, was {before.Top1:P1}");
        Assert.IsTrue(result.LastValidation!.Top1 > 0.75, $"after 4 epochs on 500 digits top-1 should pass 75%, was {result.LastValidation.Top1:P1}");
        Assert.AreEqual(4, run.Epochs.Count);
        Assert.IsTrue(File.Exists(run.BestCheckpoint) && File.Exists(run.LastCheckpoint));
        StringAssert.StartsWith(File.ReadAllLines(run.MetricsCsv)[0], "epoch,train_loss");
    }

    [TestMethod]
    [TestCategory("Slow")]   // three short training runs
    public void ResumedRunEndsWithTheSameWeightsAsAnUninterruptedOne()
    {
        var config = new TrainConfig { Epochs = 3, LearningRate = 2e-3, Schedule = ScheduleKind.Cosine };
        ZooModel Fresh() { torch.manual_seed(5); return new LeNet5(activation: Activation.ReLU); }

        var (train, test) = Mnist(perClass: 20);
        var straight = Fresh();
        using var straightTemp = new TempFolder("straight");
        new Trainer(straight, config, train, test, new RunFolder(straightTemp.Path), Info).Fit(log: _ => { });

        // Ctrl+C during the second epoch: the step in flight finishes, last.ckpt records the position; resume in a new model.
        var (train2, test2) = Mnist(perClass: 20);
        var first = Fresh();
        using var temp = new TempFolder("interrupted");
        var run = new RunFolder(temp.Path);
        using var cancel = new CancellationTokenSource();
        var trainer = new Trainer(first, config, train2, test2, run, Info);
        var result = trainer.Fit(cancel.Token, log: line => { if (line.StartsWith("epoch 1:", StringComparison.Ordinal)) cancel.Cancel(); });
        Assert.AreEqual(StopReason.Interrupted, result.Reason);

        var resumed = Fresh();
        var (train3, test3) = Mnist(perClass: 20);
        var again = new Trainer(resumed, config, train3, test3, run, Info).Fit(resumeFrom: run.LastCheckpoint, log: _ => { });
        Assert.AreEqual(StopReason.Completed, again.Reason);
        foreach (var (key, tensor) in straight.state_dict())
            Assert.IsTrue(torch.equal(tensor, resumed.state_dict()[key]).all().item<bool>(), $"{key} differs after resume");
    }

    [TestMethod]
    public void NaNLossStopsWithAClearMessageAndKeepsTheLastGoodCheckpoint()
    {
        var (train, test) = Mnist(perClass: 10);
        torch.manual_seed(3);
        var model = new LeNet5(activation: Activation.ReLU);
        using var temp = new TempFolder("nan");
        var run = new RunFolder(temp.Path);
        var good = new Trainer(model, new TrainConfig { Epochs = 1 }, train, test, run, Info);
        good.Fit(log: _ => { });
        long size = new FileInfo(run.LastCheckpoint).Length;
        var stamp = File.GetLastWriteTimeUtc(run.LastCheckpoint);

        var exploding = new Trainer(model, new TrainConfig { Epochs = 3, LearningRate = 1e12, Optimizer = OptimizerKind.Sgd },
                                    train, test, run, Info);
        var e = Assert.ThrowsExactly<TrainingDivergedException>(() => exploding.Fit(log: _ => { }));
        StringAssert.Contains(e.Message, "loss became");
        StringAssert.Contains(e.Message, run.LastCheckpoint);
        Assert.AreEqual(stamp, File.GetLastWriteTimeUtc(run.LastCheckpoint), "the last good checkpoint must not be overwritten");
        var info = Checkpoint.Load(run.LastCheckpoint, new LeNet5(activation: Activation.ReLU));
        Assert.AreEqual(1, info.Epoch);
        Assert.IsTrue(size > 0);
    }

    [TestMethod]
    public void AKilledCheckpointWriteLeavesThePreviousCheckpointLoadable()
    {
        using var temp = new TempFolder("atomic");
        string folder = temp.Path;
        string path = Path.Combine(folder, "last.ckpt");
        var model = new LeNet5();
        Checkpoint.Save(path, model, null, Info with { Epoch = 1 });
        Assert.ThrowsExactly<IOException>(() => AtomicFile.Write(path, s =>
        {
            s.Write(new byte[1000]);
            throw new IOException("simulated crash mid-write");
        }));
        Assert.AreEqual(1, Checkpoint.Load(path, new LeNet5()).Epoch);
        Assert.AreEqual(1, Directory.GetFiles(folder).Length, "no temp file is left behind");

        File.WriteAllBytes(path, File.ReadAllBytes(path)[..200]);
        var e = Assert.ThrowsExactly<InvalidDataException>(() => Checkpoint.Load(path, new LeNet5()));
        StringAssert.Contains(e.Message, path);
        File.WriteAllText(path, "not a checkpoint");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => Checkpoint.ReadInfo(path)).Message, "checkpoint");
        Assert.ThrowsExactly<FileNotFoundException>(() => Checkpoint.ReadInfo(Path.Combine(folder, "missing.ckpt")));
    }

    [TestMethod]
    public void OneCycleScheduleRisesThenFallsAndCosineEndsAtZero()
    {
        var oneCycle = new LearningRateSchedule(ScheduleKind.OneCycle, 100, 10);
        Assert.AreEqual(1 / 25.0, oneCycle.Factor(0), 1e-9);
        Assert.IsTrue(oneCycle.Factor(29) > 0.99);
        Assert.IsTrue(oneCycle.Factor(99) < 1e-4);
        var cosine = new LearningRateSchedule(ScheduleKind.Cosine, 100, 10, WarmupSteps: 10);
        Assert.AreEqual(0.1, cosine.Factor(0), 1e-9);
        Assert.AreEqual(1.0, cosine.Factor(9), 1e-9);
        Assert.IsTrue(cosine.Factor(100) < 1e-9);
        var step = new LearningRateSchedule(ScheduleKind.Step, 100, 10, StepEpochs: 3, Gamma: 0.5);
        Assert.AreEqual(0.5, step.Factor(30), 1e-12);
    }
}
