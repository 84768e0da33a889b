using Cnn.Tests.Data;
using Cnn.Tests.Support;
using Cnn.Training.Training;
using Cnn.Transfer;
using Cnn.Zoo;
using SkiaSharp;
using static Cnn.Tests.Cli.CliRunner;

namespace Cnn.Tests.Cli;

/// <summary>
/// Every bad input a user can give, through the command line as they meet it: one clear message naming the file,
/// the documented exit code, and no stack trace on the console.
/// </summary>
[TestClass]
public sealed class BadInputTests
{
    static string folder = "";
    static string digits = "";

    [ClassCleanup]
    public static void DeleteFiles() => Directory.Delete(folder, recursive: true);

    [ClassInitialize]
    public static void MakeFiles(TestContext _)
    {
        folder = new TempFolder("bad-input").Path;
        digits = Path.Combine(folder, "digits");
        Assert.AreEqual(0, Run("export-images", "--data", "mnist", "--per-class", "3", "--out", digits).Code);

        using (var mobileNet = ModelRegistry.Create("mobilenet_v2", 10)) Weights.Save(mobileNet, File("mobilenet_v2.pt"));
        using (var lenet = ModelRegistry.Create("lenet5", 10))
        {
            Weights.Save(lenet, File("lenet5.pt"));
            Weights.Save(lenet, File("lenet5.safetensors"));
            Checkpoint.Save(File("lenet5.ckpt"), lenet, null, new CheckpointInfo
            {
                Model = "lenet5", NumClasses = 10, Classes = [.. Enumerable.Range(0, 10).Select(i => i.ToString())],
                InputShape = [1, 32, 32], Mean = [0.1307f], Std = [0.3081f],
            });
        }
        Truncate(File("lenet5.pt"), File("truncated.pt"));
        Truncate(File("lenet5.safetensors"), File("truncated.safetensors"));
        Truncate(File("lenet5.ckpt"), File("truncated.ckpt"));
        var flipped = System.IO.File.ReadAllBytes(File("lenet5.ckpt"));
        flipped[flipped.Length * 3 / 4] ^= 0x10;                       // inside the weights: would still parse
        System.IO.File.WriteAllBytes(File("flipped.ckpt"), flipped);
        System.IO.File.WriteAllBytes(File("garbage.safetensors"), [.. Enumerable.Range(0, 4000).Select(i => (byte)(i * 37))]);
        System.IO.File.WriteAllText(File("garbage.pt"), "this is not a PyTorch file");

        string idx = Path.Combine(folder, "idx");
        Directory.CreateDirectory(idx);
        foreach (string file in Directory.GetFiles(Path.Combine(TestPaths.RepoRoot, "data", "mnist")))
            System.IO.File.Copy(file, Path.Combine(idx, Path.GetFileName(file)));
        string images = Directory.GetFiles(idx, "train-images*").Single();
        Truncate(images, images);

        // Image folders: one with a corrupt PNG and an empty JPEG, one whose PNG header claims 60000 x 60000 pixels.
        string damaged = CopyDigits("damaged-images");
        System.IO.File.WriteAllBytes(Path.Combine(damaged, "3", "corrupt.png"), [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3]);
        System.IO.File.WriteAllBytes(Path.Combine(damaged, "5", "empty.jpg"), []);
        string huge = CopyDigits("huge-image");
        System.IO.File.WriteAllBytes(Path.Combine(huge, "1", "huge.png"), TestFiles.PngClaiming(60000, 60000));
        System.IO.File.WriteAllBytes(File("colour.png"), TestFiles.Solid(40, 30, SKColors.Orange, SKEncodedImageFormat.Png));
        System.IO.File.WriteAllBytes(File("corrupt.png"), [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3]);
    }

    static string File(string name) => Path.Combine(folder, name);

    static string CopyDigits(string name)
    {
        string target = Path.Combine(folder, name);
        foreach (string file in Directory.GetFiles(Path.Combine(digits, "train"), "*", SearchOption.AllDirectories))
        {
            string copy = Path.Combine(target, Path.GetRelativePath(Path.Combine(digits, "train"), file));
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            System.IO.File.Copy(file, copy);
        }
        return target;
    }

    static void Truncate(string from, string to)
    {
        var bytes = System.IO.File.ReadAllBytes(from);
        System.IO.File.WriteAllBytes(to, bytes[..(bytes.Length / 2)]);
    }

    /// <summary>Name, arguments (FILE: the test folder), exit code, and what the message must contain.</summary>
    static IEnumerable<object[]> Cases =>
    [
        ["weights of another architecture", new[] { "finetune", "--model", "resnet18", "--weights", "FILE/mobilenet_v2.pt", "--data", "DIGITS", "--epochs", "1", "--unfreeze-epochs", "0" }, 1, new[] { "mobilenet_v2.pt", "--model mobilenet_v2" }],
        ["truncated .pt", new[] { "finetune", "--model", "lenet5", "--weights", "FILE/truncated.pt", "--data", "mnist", "--train-per-class", "2", "--epochs", "1" }, 1, new[] { "truncated.pt" }],
        ["garbage .pt", new[] { "finetune", "--model", "lenet5", "--weights", "FILE/garbage.pt", "--data", "mnist", "--train-per-class", "2", "--epochs", "1" }, 1, new[] { "garbage.pt" }],
        ["truncated .safetensors", new[] { "finetune", "--model", "lenet5", "--weights", "FILE/truncated.safetensors", "--data", "mnist", "--train-per-class", "2", "--epochs", "1" }, 1, new[] { "truncated.safetensors" }],
        ["garbage .safetensors", new[] { "finetune", "--model", "lenet5", "--weights", "FILE/garbage.safetensors", "--data", "mnist", "--train-per-class", "2", "--epochs", "1" }, 1, new[] { "garbage.safetensors" }],
        ["truncated checkpoint", new[] { "eval", "--checkpoint", "FILE/truncated.ckpt" }, 1, new[] { "truncated.ckpt" }],
        ["bit-flipped checkpoint", new[] { "eval", "--checkpoint", "FILE/flipped.ckpt" }, 1, new[] { "flipped.ckpt" }],
        ["bit-flipped checkpoint, predict", new[] { "predict", "--checkpoint", "FILE/flipped.ckpt", "FILE/colour.png" }, 1, new[] { "flipped.ckpt" }],
        ["truncated IDX file", new[] { "train", "--data", "FILE/idx", "--epochs", "1" }, 1, new[] { "train-images" }],
        ["corrupt and empty images", new[] { "train", "--data", "FILE/damaged-images", "--epochs", "1" }, 1, new[] { "corrupt.png", "empty.jpg", "2 " }],
        ["image claiming 60000 x 60000", new[] { "train", "--data", "FILE/huge-image", "--epochs", "1" }, 1, new[] { "huge.png", "60000" }],
        ["corrupt image to predict", new[] { "predict", "--checkpoint", "FILE/lenet5.ckpt", "FILE/corrupt.png" }, 1, new[] { "corrupt.png" }],
        ["missing image to predict", new[] { "predict", "--checkpoint", "FILE/lenet5.ckpt", "FILE/nothing.png" }, 1, new[] { "nothing.png" }],
        ["missing checkpoint", new[] { "predict", "--checkpoint", "FILE/nothing.ckpt", "FILE/colour.png" }, 1, new[] { "nothing.ckpt" }],
        ["missing weights", new[] { "finetune", "--model", "lenet5", "--weights", "FILE/nothing.pt" }, 1, new[] { "nothing.pt" }],
        ["missing data folder", new[] { "train", "--data", "FILE/nothing" }, 2, new[] { "nothing", "mnist, fashion-mnist or a folder" }],
        ["missing resume checkpoint", new[] { "train", "--resume", "FILE/nothing.ckpt" }, 1, new[] { "nothing.ckpt" }],
        ["unknown model option", new[] { "train", "--opt", "colour=blue", "--epochs", "1" }, 2, new[] { "colour" }],
        ["input too small for the model", new[] { "train", "--model", "resnet18", "--input-size", "16", "--epochs", "1" }, 2, new[] { "--input-size 16", "at least 32 x 32" }],
        ["input size a fixed-size model refuses", new[] { "export", "--checkpoint", "FILE/lenet5.ckpt", "--input-size", "64", "--out", "FILE/l.onnx" }, 2, new[] { "lenet5 takes only 32 x 32" }],
        ["unknown option value", new[] { "train", "--optimizer", "lbfgs" }, 2, new[] { "sgd, adam, adamw", "lbfgs" }],
        ["negative epochs", new[] { "finetune", "--epochs", "-1" }, 2, new[] { "--epochs", "-1" }],
        ["bad input shape", new[] { "summary", "lenet5", "--input", "1x32" }, 2, new[] { "CxHxW", "1x32" }],
    ];

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void BadInputGetsOneClearMessage(string name, string[] arguments, int code, string[] mentions)
    {
        var args = arguments.Select(a => a.Replace("FILE", folder).Replace("DIGITS", Path.Combine(digits, "train"))).ToArray();
        var run = Run(args);
        string all = run.Output + run.Error;
        Assert.AreEqual(code, run.Code, $"{name}: exit code\n{all}");
        foreach (string mention in mentions) StringAssert.Contains(run.Error, mention, $"{name}: the message should mention '{mention}'");
        AssertNoStackTrace(all);
        Assert.IsTrue(run.Error.Split('\n').Length <= 25, $"{name}: the message should fit one screen\n{run.Error}");
    }
}
