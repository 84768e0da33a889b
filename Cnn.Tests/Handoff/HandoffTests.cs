using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Cnn.Tests.Cli;
using Cnn.Training.Cli;
using Cnn.Training.Data;
using Cnn.Training.Handoff;
using Cnn.Training.Training;
using Cnn.Transfer;
using Cnn.Zoo;
using static Cnn.Tests.Cli.CliRunner;

namespace Cnn.Tests.Handoff;

/// <summary>
/// <c>cnnzoo handoff</c> and the PyTorch side it writes: the folder holds exactly the split the checkpoint recorded,
/// two torchrun processes (gloo on CPU) train on disjoint samples to identical weights, the result loads back
/// strictly, and without training PyTorch scores the held-out images exactly as <c>cnnzoo eval</c> does. The PyTorch
/// tests need Debian's python3-torch, python3-torchvision and python3-pil (.ci/run installs them).
/// </summary>
[TestClass]
public sealed class HandoffTests
{
    const string Python = "/usr/bin/python3";
    const string Torchrun = "/usr/bin/torchrun";

    static TempFolder folder = null!;
    static string images = null!, checkpoint = null!;

    /// <summary>A LeNet-5 checkpoint trained on 100 exported digits, 30% held out with seed 7 (not the defaults).</summary>
    [ClassInitialize]
    public static void TrainCheckpoint(TestContext context)
    {
        folder = new TempFolder("handoff");
        string digits = folder.File("digits");
        Assert.AreEqual(0, Run("export-images", "--data", "mnist", "--per-class", "10", "--out", digits).Code);
        images = Path.Combine(digits, "train");
        var train = Run("train", "--data", images, "--seed", "7", "--val-fraction", "0.3", "--epochs", "2", "--input-size", "32",
                        "--out", folder.File("runs"), "--workers", "1");
        Assert.AreEqual(0, train.Code, train.Output + train.Error);
        checkpoint = Path.Combine(Directory.GetDirectories(folder.File("runs")).Single(), "last.ckpt");
    }

    [ClassCleanup]
    public static void CleanUp() => folder.Dispose();

    static string Handoff(string name)
    {
        string output = folder.File(name);
        var result = Run("handoff", "--checkpoint", checkpoint, "--out", output);
        Assert.AreEqual(0, result.Code, result.Output + result.Error);
        return output;
    }

    static List<(string File, int Label)> List(string handoff, string name)
        => [.. File.ReadAllLines(Path.Combine(handoff, name)).Select(line => line.Split('\t'))
                   .Select(parts => (Path.Combine(images, parts[0]), int.Parse(parts[1], CultureInfo.InvariantCulture)))];

    [TestMethod]
    public void TheFolderHoldsTheWeightsTheRecordedSplitAndTheProjectsScripts()
    {
        string handoff = Handoff("contents");

        // The held-out list is what eval scores for this checkpoint; the training list is the rest of the folder.
        var (evaluated, _) = DataSources.LoadForEvaluation(images, Checkpoint.ReadInfo(checkpoint).Split, BadDataPolicy.Fail);
        var heldOut = List(handoff, HandoffFolder.HeldOutList);
        var train = List(handoff, HandoffFolder.TrainList);
        CollectionAssert.AreEquivalent(Enumerable.Range(0, evaluated.Count).Select(i => (evaluated.Describe(i), evaluated.LabelOf(i))).ToList(), heldOut);
        Assert.AreEqual(70, train.Count);
        Assert.AreEqual(0, train.Select(t => t.File).Intersect(heldOut.Select(h => h.File)).Count(), "a held-out image is in the training list");
        foreach (var (file, label) in train.Concat(heldOut))
            Assert.AreEqual(label.ToString(CultureInfo.InvariantCulture), Path.GetFileName(Path.GetDirectoryName(file)), $"{file}: label");

        // The weights are the checkpoint's, under the zoo's keys, and load strictly into the model it records.
        using var trained = ReadyModel.FromCheckpoint(checkpoint, TorchSharp.torch.CPU);
        var info = trained.Checkpoint!;
        using (var rebuilt = ModelRegistry.Create(info.Model, info.NumClasses, new ModelOptions(info.ModelOptions)))
        {
            Weights.Load(rebuilt, Path.Combine(handoff, HandoffFolder.Weights), strict: true);
            var expected = trained.Model.state_dict();
            foreach (var (key, tensor) in rebuilt.state_dict())
                Assert.IsTrue(tensor.equal(expected[key]).all().item<bool>(), $"{key} differs from the checkpoint's");
        }

        // What --weights FILE reads back, and what train.py reads (the JSON's names are its contract).
        Assert.AreEqual(trained.Preprocessing, Cnn.Transfer.Catalog.WeightsSidecar.Read(Path.Combine(handoff, HandoffFolder.Weights))!.Preprocessing);
        using var sidecar = JsonDocument.Parse(File.ReadAllText(Path.Combine(handoff, "model.json")));
        var root = sidecar.RootElement;
        Assert.AreEqual("lenet5", root.GetProperty("model").GetString());
        Assert.AreEqual("relu", root.GetProperty("model_options").GetProperty("activation").GetString(), "train's LeNet-5 recipe");
        CollectionAssert.AreEqual(info.Classes.ToList(), root.GetProperty("classes").EnumerateArray().Select(c => c.GetString()).ToList());
        var preprocessing = root.GetProperty("preprocessing");
        Assert.AreEqual(32, preprocessing.GetProperty("crop_size").GetInt32());
        Assert.IsTrue(preprocessing.GetProperty("pad_small_squares").GetBoolean(), "28-pixel digits are padded to 32, as in training");

        foreach (string script in new[] { HandoffFolder.Script, HandoffFolder.Models })
            CollectionAssert.AreEqual(File.ReadAllBytes(Path.Combine(RepoRoot, "Cnn.Training", "Handoff", script)),
                                      File.ReadAllBytes(Path.Combine(handoff, script)), $"{script} is the project's file, copied verbatim");
        string readme = File.ReadAllText(Path.Combine(handoff, HandoffFolder.Readme));
        StringAssert.Contains(readme, "torchrun --standalone --nproc_per_node 4 train.py");
        StringAssert.Contains(readme, "--rdzv_endpoint HOST:29400");
        StringAssert.Contains(readme, "cnnzoo eval --model lenet5 --weights result/model.pt");
    }

    [TestMethod]
    public void BadInputGetsOneMessageAndTheProjectsExitCode()
    {
        string occupied = folder.File("occupied", "something.txt");
        File.WriteAllText(occupied, "");
        string weights = folder.File("lenet5.pt");
        using (var model = ModelRegistry.Create("lenet5", 10)) Weights.Save(model, weights);
        string letters = folder.File("letters");
        foreach (string letter in new[] { "a", "b" })
            File.Copy(Directory.GetFiles(Path.Combine(images, "0")).First(), folder.File("letters", letter, "x.png"));

        var cases = new (string[] Args, int Code, string Message)[]
        {
            (["handoff", "--checkpoint", checkpoint], 2, "handoff needs --out FOLDER"),
            (["handoff", "--out", folder.File("none")], 2, "handoff needs --checkpoint FILE, or --model NAME --weights NAME|FILE"),
            (["handoff", "--checkpoint", checkpoint, "--out", Path.GetDirectoryName(occupied)!], 1, "expected a new or empty folder for the handoff; found something.txt"),
            (["handoff", "--checkpoint", folder.File("missing.ckpt"), "--out", folder.File("o1")], 1, "missing.ckpt not found"),
            (["handoff", "--checkpoint", checkpoint, "--input-size", "64", "--out", folder.File("o2")], 2, "a checkpoint records its input size"),
            (["handoff", "--model", "lenet5", "--weights", weights, "--out", folder.File("o3")], 2, "needs --data"),
            (["handoff", "--model", "lenet5", "--weights", weights, "--data", images, "--input-size", "64", "--out", folder.File("o4")], 2, "--input-size 64: lenet5 takes only 32 x 32 images"),
            (["handoff", "--checkpoint", checkpoint, "--data", letters, "--out", folder.File("o5")], 1, "has the classes [a, b] but"),
        };
        foreach (var (args, code, message) in cases)
        {
            var result = Run(args);
            Assert.AreEqual(code, result.Code, $"{string.Join(' ', args)}:\n{result.Output}{result.Error}");
            StringAssert.Contains(result.Error, message, string.Join(' ', args));
            AssertNoStackTrace(result.Output + result.Error);
        }
    }

    [TestMethod]
    [TestCategory("Slow")]   // writes Fashion-MNIST's 7,000 images as PNG files
    public void IdxImagesAreWrittenAsFilesThatHoldTheSamePixels()
    {
        string weights = folder.File("idx-lenet5.pt");
        using (var model = ModelRegistry.Create("lenet5", 10)) Weights.Save(model, weights);
        string handoff = folder.File("idx");
        var result = Run("handoff", "--model", "lenet5", "--weights", weights, "--data", "fashion-mnist", "--out", handoff);
        Assert.AreEqual(0, result.Code, result.Output + result.Error);

        var (train, test) = Datasets.IdxFolder(Path.Combine(RepoRoot, "data", "fashion-mnist"));
        foreach (var (set, list) in new[] { (train, HandoffFolder.TrainList), (test, HandoffFolder.HeldOutList) })
        {
            var lines = File.ReadAllLines(Path.Combine(handoff, list)).Select(l => l.Split('\t')).ToList();
            Assert.AreEqual(set.Count, lines.Count, $"{list}: every image of the set");
            foreach (int i in new[] { 0, set.Count / 2, set.Count - 1 })
            {
                string file = Path.Combine(handoff, HandoffFolder.ImagesFolder, lines[i][0]);
                Assert.AreEqual(set.LabelOf(i).ToString(CultureInfo.InvariantCulture), lines[i][1], $"{list} line {i + 1}: label");
                var decoded = ImageCodec.Decode(file, ColorMode.Grey);
                CollectionAssert.AreEqual(set.Load(i).Pixels, decoded.Pixels, $"{file}: the pixels of {set.Describe(i)}");
            }
        }
    }

    [TestMethod]
    [TestCategory("Slow")]   // two torchrun processes of PyTorch, then cnnzoo eval on their result
    public void TwoProcessesTrainOnDisjointSamplesToTheSameWeightsThatLoadBack()
    {
        string handoff = Handoff("ddp");
        string result = Path.Combine(handoff, "result");
        Torchrun2(handoff, "--steps", "4", "--batch-size", "8", "--workers", "0", "--log-samples", "--out", result);

        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(result, "metrics.json")));
        var ranks = metrics.RootElement.GetProperty("ranks").EnumerateArray().ToList();
        Assert.AreEqual(2, ranks.Count);
        var samples = ranks.Select(r => r.GetProperty("samples").EnumerateArray().Select(s => s.GetInt32()).ToList()).ToList();
        Assert.AreEqual(4 * 8, samples[0].Count, "rank 0: 4 steps of 8 images");
        Assert.AreEqual(4 * 8, samples[1].Count, "rank 1: 4 steps of 8 images");
        Assert.AreEqual(0, samples[0].Intersect(samples[1]).Count(), "the ranks shared a sample within the epoch");
        Assert.AreEqual(ranks[0].GetProperty("weights_sha256").GetString(), ranks[1].GetProperty("weights_sha256").GetString(),
                        "the ranks ended with different weights");
        Assert.AreEqual(4, metrics.RootElement.GetProperty("steps").GetInt32());

        // Trained: the weights moved, and they load back strictly for Cnn.Zoo.
        using (var before = ModelRegistry.Create("lenet5", 10))
        {
            Weights.Load(before, Path.Combine(handoff, HandoffFolder.Weights));
            var after = Weights.Read(Path.Combine(result, HandoffFolder.Weights));
            Assert.IsFalse(after["classifier.4.weight"].equal(before.state_dict()["classifier.4.weight"]).all().item<bool>(), "the head did not train");
            Assert.IsTrue(after["features.0.weight"].equal(before.state_dict()["features.0.weight"]).all().item<bool>(), "a frozen layer changed");
            foreach (var t in after.Values) t.Dispose();
        }
        Assert.IsTrue(File.Exists(Path.Combine(result, "model.json")), "the sidecar travels with the result");
        var eval = Run("eval", "--model", "lenet5", "--weights", Path.Combine(result, HandoffFolder.Weights), "--data", images);
        Assert.AreEqual(0, eval.Code, eval.Output + eval.Error);
        StringAssert.Contains(eval.Output, "held out in training (split seed 7, recorded with the model): 30 images,",
                              "the result's model.json carries the split: PyTorch's training images are not scored");
    }

    [TestMethod]
    [TestCategory("Slow")]   // two torchrun processes of PyTorch
    public void WithoutTrainingPyTorchScoresTheHeldOutImagesAsCnnZooEvalDoes()
    {
        string handoff = Handoff("zero-steps");
        string result = Path.Combine(handoff, "result");
        Torchrun2(handoff, "--steps", "0", "--workers", "0", "--out", result);

        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(result, "metrics.json")));
        var heldOut = metrics.RootElement.GetProperty("held_out");
        int images = heldOut.GetProperty("images").GetInt32(), correct = heldOut.GetProperty("correct").GetInt32();
        double loss = heldOut.GetProperty("loss").GetDouble();
        Assert.AreEqual(30, images);

        var eval = Run("eval", "--checkpoint", checkpoint, "--data", HandoffTests.images);
        Assert.AreEqual(0, eval.Code, eval.Output + eval.Error);
        StringAssert.Contains(eval.Output, string.Create(CultureInfo.InvariantCulture, $": 30 images, loss {loss:F4}, top-1 {100.0 * correct / images:F2}%"),
                              "PyTorch and Cnn.Zoo disagree on the held-out images");
    }

    [TestMethod]
    [TestCategory("Slow")]   // builds every registered model in PyTorch and in Cnn.Zoo
    public void EveryZooModelHasAPyTorchDefinitionWithTheZoosKeysAndShapes()
    {
        RequirePyTorch();
        // Initialisation is switched off: only names and shapes are compared, and vgg19's takes seconds.
        const string script = """
            import sys
            import torch.nn.init as init
            for name in dir(init):
                if name.endswith("_") and not name.startswith("_"):
                    setattr(init, name, lambda tensor, *args, **kwargs: tensor)
            sys.path.insert(0, sys.argv[1])
            import zoo_models
            for model in sys.argv[2:]:
                for key, value in zoo_models.build(model, {}, 10).state_dict().items():
                    print(model + "\t" + key + "\t" + "x".join(str(d) for d in value.shape))
            """;
        var names = ModelRegistry.Names.ToList();
        var (code, output) = RunTool(Python, RepoRoot, TimeSpan.FromMinutes(5), ["-c", script, Path.Combine(RepoRoot, "Cnn.Training", "Handoff"), .. names]);
        Assert.AreEqual(0, code, output);
        var python = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')).Where(p => p.Length == 3)
                           .GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.Select(p => $"{p[1]} {p[2]}").ToList());
        foreach (string name in names)
        {
            using var zoo = ModelRegistry.Create(name, 10);
            var expected = zoo.state_dict().Select(kv => $"{kv.Key} {string.Join('x', kv.Value.shape)}").ToList();
            Assert.IsTrue(python.TryGetValue(name, out var found), $"zoo_models.py built no {name}:\n{output}");
            CollectionAssert.AreEqual(expected, found, $"{name}: keys, order and shapes of zoo_models.py's model");
        }
    }

    /// <summary>Fails with what to install when PyTorch is missing: CI installs it, so a skip would hide a gap.</summary>
    static void RequirePyTorch()
    {
        if (!File.Exists(Python) || !File.Exists(Torchrun))
            Assert.Fail($"{Python} and {Torchrun} are needed: apt-get install python3-torch python3-torchvision python3-pil (.ci/run does)");
        var (code, output) = RunTool(Python, RepoRoot, TimeSpan.FromMinutes(1), ["-c", "import torch, torchvision, PIL"]);
        if (code != 0)
            Assert.Fail($"{Python} cannot import torch, torchvision and PIL: apt-get install python3-torch python3-torchvision python3-pil (.ci/run does)\n{output}");
    }

    /// <summary>
    /// <c>torchrun</c> with two CPU processes (gloo) on a free port of the loopback interface. <c>--redirects 1 --tee
    /// 1</c>: Debian's torchrun 1.13 under Python 3.11 fails on its default of 0 (meta-llama/llama#86).
    /// </summary>
    static void Torchrun2(string handoff, params string[] args)
    {
        RequirePyTorch();
        var (code, output) = RunTool(Torchrun, handoff, TimeSpan.FromMinutes(3),
            ["--nnodes", "1", "--nproc_per_node", "2", "--master_addr", "127.0.0.1", "--master_port", FreePort().ToString(CultureInfo.InvariantCulture),
             "--redirects", "1", "--tee", "1", HandoffFolder.Script, .. args]);
        Assert.AreEqual(0, code, $"torchrun {string.Join(' ', args)}:\n{output}");
    }

    static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Runs a program to the end with one OpenMP thread per process; exit code and both streams together.</summary>
    static (int Code, string Output) RunTool(string program, string workingDirectory, TimeSpan timeout, string[] args)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (string a in args) start.ArgumentList.Add(a);
        start.Environment["OMP_NUM_THREADS"] = "1";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail($"{program} {string.Join(' ', args)} did not finish in {timeout}; what it printed:\n{output.Result}{error.Result}");
        }
        return (process.ExitCode, output.Result + error.Result);
    }
}
