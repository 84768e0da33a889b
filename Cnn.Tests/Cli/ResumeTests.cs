using System.Diagnostics;
using System.Runtime.InteropServices;
using Cnn.Tests.Support;
using Cnn.Training.Training;
using Cnn.Zoo;
using static Cnn.Tests.Cli.CliRunner;

namespace Cnn.Tests.Cli;

/// <summary>The README's promise, tested as a user meets it: Ctrl+C saves, <c>train --resume</c> ends where an uninterrupted run ends.</summary>
[TestClass]
public sealed class ResumeTests
{
    // Six short epochs (500 images each): the interrupt is sent after the first, and a loaded machine may take an epoch
    // or two to deliver it.
    static readonly string[] Arguments = ["train", "--epochs", "6", "--train-per-class", "50", "--workers", "1", "--seed", "7"];

    const int SigInt = 2;

    // kill(2) directly: starting the kill command could take longer than an epoch on a loaded machine.
    [DllImport("libc", SetLastError = true)]
    static extern int kill(int pid, int signal);

    [TestMethod]
    [TestCategory("Slow")]   // three training processes
    public void CtrlCThenResumeFromTheCommandLineEqualsAnUninterruptedRun()
    {
        using var rootTemp = new TempFolder("resume-cli");
        string root = rootTemp.Path;
        string whole = Path.Combine(root, "whole"), cut = Path.Combine(root, "cut");

        var uninterrupted = RunProcess(root, TimeSpan.FromMinutes(10), [.. Arguments, "--out", whole]);
        Assert.AreEqual(0, uninterrupted.Code, uninterrupted.Output + uninterrupted.Error);

        // The same run, sent SIGINT (what Ctrl+C sends) once the first epoch's line is printed.
        using (var process = Start(root, [.. Arguments, "--out", cut]))
        {
            var error = process.StandardError.ReadToEndAsync();
            var output = new List<string>();
            string? line;
            bool sent = false;
            while ((line = process.StandardOutput.ReadLine()) is not null)
            {
                output.Add(line);
                if (!sent && line.StartsWith("epoch 1:", StringComparison.Ordinal))
                {
                    Assert.AreEqual(0, kill(process.Id, SigInt), "kill(2) failed");
                    sent = true;
                }
            }
            Assert.IsTrue(process.WaitForExit(TimeSpan.FromMinutes(5)));
            string all = string.Join('\n', output) + error.Result;
            Assert.IsTrue(sent, "no epoch line seen:\n" + all);
            Assert.AreEqual(130, process.ExitCode, all);
            StringAssert.Contains(all, "Continue with --resume");
            AssertNoStackTrace(all);
        }
        string run = Directory.GetDirectories(cut).Single();
        string last = Path.Combine(run, "last.ckpt");
        Assert.IsTrue(File.Exists(last));
        Assert.IsTrue(Checkpoint.ReadInfo(last).Epoch < 6, "the interrupt landed after training ended");

        var resumed = RunProcess(root, TimeSpan.FromMinutes(10), "train", "--resume", last, "--threads", "2");
        Assert.AreEqual(0, resumed.Code, resumed.Output + resumed.Error);
        StringAssert.Contains(resumed.Output, "Resumed from");

        string wholeRun = Directory.GetDirectories(whole).Single();
        Assert.AreEqual(FinalRow(wholeRun), FinalRow(run), "the resumed run ends with other held-out metrics");
        AssertSameWeights(Path.Combine(wholeRun, "last.ckpt"), last);
    }

    [TestMethod]
    public void ResumeRefusesOptionsThatContradictTheRun()
    {
        using var runTemp = new TempFolder("resume-contradiction");
        string run = runTemp.Path;
        File.WriteAllText(Path.Combine(run, "command.json"), """["--epochs","1","--train-per-class","30"]""");
        string last = Path.Combine(run, "last.ckpt");
        File.WriteAllBytes(last, [1, 2, 3]);

        var epochs = Run("train", "--resume", last, "--epochs", "5");
        Assert.AreEqual(2, epochs.Code);
        StringAssert.Contains(epochs.Error, "--epochs 5 contradicts the run being resumed, which used --epochs 1");
        var model = Run("train", "--resume", last, "--model", "resnet18");
        Assert.AreEqual(2, model.Code);
        StringAssert.Contains(model.Error, "--model resnet18 contradicts");

        File.Delete(Path.Combine(run, "command.json"));
        var alone = Run("train", "--resume", last);
        Assert.AreEqual(2, alone.Code);
        StringAssert.Contains(alone.Error, "command.json not found");
        var missing = Run("train", "--resume", Path.Combine(run, "nothing.ckpt"));
        Assert.AreEqual(1, missing.Code);
        StringAssert.Contains(missing.Error, "nothing.ckpt");
    }

    /// <summary>The held-out metrics of the last epoch (timing columns left out).</summary>
    static string FinalRow(string run)
    {
        var lines = File.ReadAllLines(Path.Combine(run, "metrics.csv"));
        var header = lines[0].Split(',');
        var last = lines[^1].Split(',');
        return string.Join(',', header.Zip(last).Where(p => p.First.StartsWith("val_", StringComparison.Ordinal) || p.First == "epoch")
                                      .Select(p => $"{p.First}={p.Second}"));
    }

    static void AssertSameWeights(string expectedCheckpoint, string actualCheckpoint)
    {
        using var expected = ModelRegistry.Create("lenet5", 10, new ModelOptions(Checkpoint.ReadInfo(expectedCheckpoint).ModelOptions));
        using var actual = ModelRegistry.Create("lenet5", 10, new ModelOptions(Checkpoint.ReadInfo(actualCheckpoint).ModelOptions));
        Checkpoint.Load(expectedCheckpoint, expected);
        Checkpoint.Load(actualCheckpoint, actual);
        var a = actual.state_dict();
        foreach (var (key, tensor) in expected.state_dict())
            Assert.IsTrue(TorchSharp.torch.equal(tensor, a[key]).all().item<bool>(), $"{key} differs between the uninterrupted and the resumed run");
    }
}
