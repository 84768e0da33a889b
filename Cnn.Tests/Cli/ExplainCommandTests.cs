using Cnn.Tests.Support;
using Cnn.Training.Training;
using Cnn.Zoo;
using static Cnn.Tests.Cli.CliRunner;

namespace Cnn.Tests.Cli;

/// <summary><c>cnnzoo explain</c> as a user runs it: a real image gives a picture, a CSV at the layer's resolution and a top-5; a damaged one a message.</summary>
[TestClass]
public sealed class ExplainCommandTests
{
    [TestMethod]
    public void ExplainWritesPictureAndRawMapAndRefusesADamagedImage()
    {
        using var folderTemp = new TempFolder("explain");
        string folder = folderTemp.Path;
        string checkpoint = Path.Combine(folder, "lenet5.ckpt");
        using (var lenet = ModelRegistry.Create("lenet5", 10))
            Checkpoint.Save(checkpoint, lenet, null, new CheckpointInfo
            {
                Model = "lenet5", NumClasses = 10, Classes = [.. Enumerable.Range(0, 10).Select(i => $"digit{i}")],
                InputShape = [1, 32, 32], Mean = [0.1307f], Std = [0.3081f],
            });
        string digits = Path.Combine(folder, "digits");
        Assert.AreEqual(0, Run("export-images", "--data", "mnist", "--per-class", "1", "--out", digits).Code);
        string seven = Directory.GetFiles(Path.Combine(digits, "test", "7")).Single();
        string output = Path.Combine(folder, "out");

        var run = Run("explain", "--checkpoint", checkpoint, "--class", "digit7", "--out", output, seven);
        Assert.AreEqual(0, run.Code, run.Output + run.Error);
        string stem = Path.Combine(output, Path.GetFileNameWithoutExtension(seven));
        Assert.IsTrue(File.Exists(stem + ".gradcam.png"));
        var rows = File.ReadAllLines(stem + ".gradcam.csv");
        Assert.AreEqual(5, rows.Length, "LeNet-5's body ends at 5 x 5");
        Assert.IsTrue(rows.All(r => r.Split(',').Length == 5));
        StringAssert.Contains(run.Output, "Grad-CAM of 'digit7'");
        Assert.AreEqual(5, run.Output.Split('\n').Count(l => l.Contains('%')), "top-5 printed");

        string damaged = Path.Combine(folder, "damaged.png");
        File.WriteAllBytes(damaged, [0x89, (byte)'P', (byte)'N', (byte)'G', 0, 1]);
        var bad = Run("explain", "--checkpoint", checkpoint, "--out", output, damaged);
        Assert.AreEqual(1, bad.Code);
        StringAssert.Contains(bad.Error, "damaged.png");
        AssertNoStackTrace(bad.Output + bad.Error);
        var wrongClass = Run("explain", "--checkpoint", checkpoint, "--class", "cat", "--out", output, seven);
        Assert.AreEqual(2, wrongClass.Code);
        StringAssert.Contains(wrongClass.Error, "digit0");
    }
}
