using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Cnn.Onnx;
using Cnn.Tests.Support;
using Cnn.Zoo;
using static TorchSharp.torch;

namespace Cnn.Tests.Onnx;

/// <summary>The README's "Deploy" snippet, run as written: its lines are this file's lines (checked below).</summary>
[TestClass]
public sealed class ReadmeDeploySnippetTests
{
    static readonly string[] Classes = ["daisy", "dandelion", "rose", "sunflower", "tulip"];

    [TestMethod]
    public void TheSnippetRunsTheExportedFileAndReadsItsMetadata()
    {
        using var folderTemp = new TempFolder("readme-deploy");
        string folder = folderTemp.Path;
        string previousDirectory = Environment.CurrentDirectory;
        var previousOut = Console.Out;
        using var printed = new StringWriter();
        using var model = ModelRegistry.Create("resnet18", Classes.Length);
        DeterministicWeights.Apply(model);
        model.eval();
        try
        {
            OnnxExport.Export(model, Path.Combine(folder, "resnet18.onnx"),
                              new OnnxExportOptions(ClassNames: Classes, Preprocessing: Preprocessing.ImageNet));
            Environment.CurrentDirectory = folder;
            Console.SetOut(printed);

            // ---- README snippet ----
            using var session = new InferenceSession("resnet18.onnx");
            var metadata = session.ModelMetadata.CustomMetadataMap;
            string[] classes = JsonSerializer.Deserialize<string[]>(metadata["classes"])!;
            int[] crop = JsonSerializer.Deserialize<int[]>(metadata["crop"])!;     // input [height, width]
            float[] mean = JsonSerializer.Deserialize<float[]>(metadata["mean"])!;
            float[] std = JsonSerializer.Deserialize<float[]>(metadata["std"])!;

            // An RGB image resized so its shorter side is metadata["resize"], center-cropped to crop, scaled to 0-1,
            // normalised with mean and std, channels first. Here: plain mid-grey.
            int plane = crop[0] * crop[1];
            float[] pixels = new float[3 * plane];
            for (int i = 0; i < pixels.Length; i++) pixels[i] = (0.5f - mean[i / plane]) / std[i / plane];

            using var input = OrtValue.CreateTensorValueFromMemory(pixels, [1, 3, crop[0], crop[1]]);
            using var output = session.Run(new RunOptions(), ["input"], [input], ["logits"]);
            float[] logits = output[0].GetTensorDataAsSpan<float>().ToArray();
            int best = Array.IndexOf(logits, logits.Max());
            Console.WriteLine($"{metadata["model"]}: {classes[best]}");
            // ---- end of README snippet ----
        }
        finally
        {
            Console.SetOut(previousOut);
            Environment.CurrentDirectory = previousDirectory;
            Directory.Delete(folder, recursive: true);
        }

        // The same grey image through the zoo model.
        using var grey = zeros(1, 3, 224, 224);
        for (int c = 0; c < 3; c++) grey[.., c].fill_((0.5f - (float)Preprocessing.ImageNetMean[c]) / (float)Preprocessing.ImageNetStd[c]);
        using var _ = no_grad();
        using var expected = model.call(grey);
        string expectedClass = Classes[expected.argmax(1).item<long>()];
        Assert.AreEqual($"resnet18: {expectedClass}", printed.ToString().Trim());
    }

    [TestMethod]
    public void TheReadmeSnippetIsTheCodeThisTestRuns()
    {
        string readme = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "README.md"));
        int deploy = readme.IndexOf("\n## Deploy", StringComparison.Ordinal);
        Assert.IsGreaterThanOrEqualTo(0, deploy, "README.md has a Deploy section");
        int start = readme.IndexOf("```csharp\nusing System.Text.Json;", deploy, StringComparison.Ordinal);
        Assert.IsGreaterThanOrEqualTo(0, start, "the Deploy section has the ONNX Runtime snippet");
        int end = readme.IndexOf("```", start + 3, StringComparison.Ordinal);
        string[] snippet = [.. readme[(start + "```csharp".Length)..end].Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0)];

        string[] test = [.. File.ReadAllLines(Path.Combine(TestPaths.RepoRoot, "Cnn.Tests", "Onnx", "ReadmeDeploySnippetTests.cs")).Select(l => l.Trim())];
        int begin = Array.IndexOf(test, "// ---- README snippet ----"), finish = Array.IndexOf(test, "// ---- end of README snippet ----");
        string[] body = [.. test[(begin + 1)..finish].Where(l => l.Length > 0)];
        string[] usings = [.. snippet.TakeWhile(l => l.StartsWith("using ", StringComparison.Ordinal) && l.EndsWith(';') && !l.Contains('='))];
        foreach (string line in usings) CollectionAssert.Contains(test, line, "the snippet's using directives are this file's");
        CollectionAssert.AreEqual(snippet[usings.Length..], body, "the snippet's code is the code between the markers above, line for line");
    }
}
