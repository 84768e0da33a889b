using System.Globalization;
using Cnn.Onnx;
using Cnn.Training.Data;
using Cnn.Training.Training;
using Cnn.Zoo;
using Cnn.Zoo.Analysis;
using Cnn.Zoo.Inference;
using Cnn.Zoo.Models;
using Cnn.Zoo.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using DataLoader = Cnn.Training.Data.DataLoader;

namespace Cnn.Training.Benchmarks;

/// <summary>
/// The <c>bench</c> verb's work: the matmul ceiling of this CPU, inference and training images/s of zoo models against
/// TorchSharp's TorchVision port with the same weights, data-loader throughput, and resident memory over a long
/// training run. Nothing here asserts a time: it prints figures and writes them to the run folder.
/// </summary>
public sealed class BenchmarkRunner(BenchSettings settings, Action<string> log)
{
    readonly List<BenchRow> rows = [];
    readonly Dictionary<string, double> macsByLabel = [];
    double ceilingGflops;

    public IReadOnlyList<BenchRow> Rows => rows;

    public IReadOnlyList<BenchRow> Run()
    {
        var (matmul, gemmAsConv) = MeasureCeiling();
        ceilingGflops = Math.Max(matmul, gemmAsConv);
        log($"ceiling: torch.mm {matmul:F1} GFLOP/s, the same kind of GEMM as a 1x1 convolution {gemmAsConv:F1} GFLOP/s " +
            $"(float32, {settings.Threads} threads); fractions below are of {ceilingGflops:F1}");
        rows.Add(new("ceiling", "matmul", "torch.mm 4096 x 4096 x 4096", 1, double.NaN, null, matmul, matmul / ceilingGflops));
        rows.Add(new("ceiling", "matmul", "1x1 conv = GEMM 4096 x 1024 x 1024 (oneDNN)", 1, double.NaN, null, gemmAsConv, gemmAsConv / ceilingGflops,
                     "libtorch's convolutions use oneDNN, its mm a BLAS; the faster is the ceiling"));
        // Memory first: later sections leave freed memory in the allocators' pools, which would hide a per-step leak.
        if (settings.Memory) MemoryOverTraining();
        foreach (var model in settings.Models)
        {
            Inference(model);
            if (settings.Training) Training(model);
        }
        if (settings.Loader) Loaders();
        rows.Add(new("memory", "whole benchmark", "peak RSS MB", 0, ResidentMemory.PeakMegabytes(), null, null, null));
        Print("memory", "whole benchmark");
        return rows;
    }

    /// <summary>
    /// The practical ceiling of this CPU: a large single-precision matrix multiply through torch.mm, and the same kind of
    /// multiply run as a 1x1 convolution on channels-last tensors (oneDNN's kernels; on some CPUs far faster than mm).
    /// </summary>
    (double Matmul, double GemmAsConvolution) MeasureCeiling()
    {
        const int n = 4096;
        using var a = torch.randn(n, n);
        using var b = torch.randn(n, n);
        using var pixels = MemoryFormat.ToChannelsLast(torch.randn(1, 1024, 64, 64));
        using var weight = MemoryFormat.ToChannelsLast(torch.randn(1024, 1024, 1, 1));
        var timing = Interleaved.ImagesPerSecond(
        [
            new TimedCase("mm", () => torch.mm(a, b).Dispose(), 1),
            new TimedCase("conv", () => { using var _ = inference_mode(); nn.functional.conv2d(pixels, weight).Dispose(); }, 1),
        ], settings.Warmup, settings.Repeats, settings.SampleSeconds);
        return (timing["mm"] * 2.0 * n * n * n / 1e9, timing["conv"] * 2.0 * 4096 * 1024 * 1024 / 1e9);
    }

    static ZooModel Create(BenchModel spec)
        => ModelRegistry.Create(spec.Name, spec.Classes ?? ModelRegistry.Get(spec.Name).DefaultClasses, ModelOptions.Parse(spec.Options));

    /// <summary>The model, the benchmark's batch shape for it, and its multiply-accumulates per image (one summary
    /// pass per model, shared by the inference and training sections).</summary>
    (ZooModel Model, long[] Shape, double Macs) Build(BenchModel spec)
    {
        var model = Create(spec);
        int size = spec.InputSize ?? model.Input.Height;
        long[] image = [model.Input.Channels, size, size];
        if (!macsByLabel.TryGetValue(spec.Label, out double macs))
            macsByLabel[spec.Label] = macs = ModelSummary.Of(model, image).TotalMacs;
        return (model, [settings.Batch, .. image], macs);
    }

    /// <summary>A second instance of the same network with the same weights.</summary>
    static ZooModel Copy(BenchModel spec, ZooModel source)
    {
        var copy = Create(spec);
        var missing = ReferenceModels.CopyWeights(source, copy);
        if (missing.Count > 0) throw new InvalidOperationException($"{spec.Label}: copy lacks {string.Join(", ", missing)}");
        return copy;
    }

    /// <summary>
    /// Times <paramref name="cases"/> interleaved and records a row each: images/s, the ratio to the case named
    /// "torchvision port" when there is one, and FLOP/s from <paramref name="flopsPerImage"/>. The port's row carries
    /// <paramref name="note"/>, the others <paramref name="caseNote"/>'s.
    /// </summary>
    void Record(string section, BenchModel spec, IReadOnlyList<TimedCase> cases, double flopsPerImage, string note,
                Func<string, string> variantName, Func<string, IReadOnlyDictionary<string, double>, string>? caseNote = null)
    {
        const string reference = "torchvision port";
        log($"{section} {spec.Label}: {string.Join(", ", cases.Select(c => c.Name))}");
        var timing = Interleaved.ImagesPerSecond(cases, settings.Warmup, settings.Repeats, settings.SampleSeconds);
        foreach (var c in cases)
        {
            double? ratio = timing.TryGetValue(reference, out double port) ? timing[c.Name] / port : null;
            double gflops = timing[c.Name] * flopsPerImage / 1e9;
            rows.Add(new(section, spec.Label, variantName(c.Name), c.Images, timing[c.Name], ratio, gflops, gflops / ceilingGflops,
                         c.Name == reference ? note : caseNote?.Invoke(c.Name, timing) ?? ""));
        }
        Print(section, spec.Label);
    }

    nn.Module<Tensor, Tensor>? Reference(BenchModel spec, ZooModel zoo, out string note)
    {
        note = "";
        if (spec.Options.Length > 0 || spec.Classes is not null) return null;   // the port builds only the standard networks
        var reference = ReferenceModels.Create(spec.Name, zoo.NumClasses);
        if (reference is null) return null;
        var missing = ReferenceModels.CopyWeights(zoo, reference);
        if (missing.Count > 0)
            note = $"port has {missing.Count} tensors the zoo lacks (e.g. {missing[0]}), left at their init";
        return reference;
    }

    void Inference(BenchModel spec)
    {
        var (plain, shape, macs) = Build(spec);
        plain.eval();
        var reference = Reference(spec, plain, out string note);
        reference?.eval();
        using var x = torch.randn(shape);
        var fp32 = InferenceModel.Optimize(Copy(spec, plain), new InferenceOptions(Precision: InferencePrecision.Float32));
        // auto: the same proof the verbs ask of bf16 (PrecisionCalibration), on this benchmark's batch.
        var bf16Candidate = settings.Precision == InferencePrecision.Float32
            ? null
            : InferenceModel.Optimize(Copy(spec, plain), new InferenceOptions(Precision: settings.Precision, Calibration: x));
        var bf16Choice = bf16Candidate?.Precision
                         ?? new PrecisionChoice(InferencePrecision.Float32, "fp32 as requested: no bf16 row");
        var bf16 = bf16Choice.Precision == InferencePrecision.BFloat16 ? bf16Candidate : null;
        if (bf16 is null) bf16Candidate?.Dispose();
        // The same weights exported to ONNX and run by ONNX Runtime (float32, its own kernels, the same thread count).
        var ort = OnnxRuntimeModel.Create(Copy(spec, plain), new OnnxRuntimeOptions(Threads: settings.Threads),
                                          new OnnxExportOptions((int)shape[2], (int)shape[3]));
        int images = (int)shape[0];

        var cases = new List<TimedCase>
        {
            new("zoo plain", () => { using var _ = no_grad(); plain.call(x).Dispose(); }, images),
            new("zoo optimized", () => fp32.call(x).Dispose(), images),
        };
        if (bf16 is not null) cases.Add(new("zoo optimized bf16", () => bf16.call(x).Dispose(), images));
        cases.Add(new("onnx runtime", () => ort.call(x).Dispose(), images));
        if (reference is not null)
            cases.Add(new("torchvision port", () => { using var _ = no_grad(); reference.call(x).Dispose(); }, images));
        log($"{spec.Label}: zoo optimized = {fp32.Description}, {fp32.FoldedBatchNorms} BNs folded; bf16 row: {bf16Choice.Reason}");
        var agreement = new Dictionary<string, string> { ["zoo optimized"] = Agreement(plain, fp32, x) };
        if (bf16 is not null) agreement["zoo optimized bf16"] = Agreement(plain, bf16, x);
        agreement["onnx runtime"] = Agreement(plain, ort, x);
        Record("inference", spec, cases, 2 * macs, note,
               name => name switch
               {
                   "zoo optimized" => $"zoo optimized ({fp32.Description})",
                   "zoo optimized bf16" => $"zoo optimized ({bf16!.Description})",
                   "onnx runtime" => $"onnx runtime (fp32 export, {settings.Threads} threads)",
                   _ => name,
               },
               (name, _) => agreement.GetValueOrDefault(name, ""));
        plain.Dispose();
        fp32.Dispose();
        bf16?.Dispose();
        ort.Dispose();
        reference?.Dispose();
    }

    /// <summary>
    /// How far an optimised model's logits are from the plain float32 model's on the benchmark's batch: a speed-up
    /// is only worth reporting with the accuracy it costs.
    /// </summary>
    static string Agreement(ZooModel plain, nn.Module<Tensor, Tensor> optimized, Tensor x)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var expected = plain.call(x);
        var actual = optimized.call(x);
        double error = (actual - expected).abs().max().item<float>() / expected.abs().max().item<float>();
        long agreeing = actual.argmax(1).eq(expected.argmax(1)).sum().item<long>();
        return string.Create(CultureInfo.InvariantCulture,
            $"logits within {100 * error:G3}% of the plain model's scale, top-1 agrees on {agreeing}/{x.shape[0]}");
    }

    void Training(BenchModel spec)
    {
        var (zoo, shape, macs) = Build(spec);
        var reference = Reference(spec, zoo, out string note);
        var channelsLast = Copy(spec, zoo);
        using var x = torch.randn(shape);
        using var xLast = MemoryFormat.ToChannelsLast(x);
        bool auto = MemoryFormat.UsesChannelsLast(MemoryLayout.Auto, shape[2], shape[3]);
        using var y = torch.randint(0, zoo.NumClasses, [shape[0]], ScalarType.Int64);
        int images = (int)shape[0];

        // Plain SGD with momentum at a small rate: the same work for every case, and random labels do not diverge.
        Action Step(nn.Module<Tensor, Tensor> model, Tensor input)
        {
            model.train();
            var optimizer = torch.optim.SGD(model.parameters(), 1e-4, momentum: 0.9);
            return () =>
            {
                using var scope = NewDisposeScope();
                optimizer.zero_grad();
                nn.functional.cross_entropy(model.call(input), y).backward();
                optimizer.step();
            };
        }

        // NativeSafety's cost: the same steps with the finalizer thread held throughout and no safe point taken.
        var zooStep = Step(zoo, x);
        void WithoutSafePoints()
        {
            var interval = NativeSafety.Interval;
            NativeSafety.Interval = TimeSpan.MaxValue;
            try { zooStep(); }
            finally { NativeSafety.Interval = interval; }
        }
        const string noSafePoints = "zoo, no safe points (NativeSafety's cost)";
        var cases = new List<TimedCase>
        {
            new("zoo", zooStep, images),
            new("zoo, channels-last batches" + (auto ? " (Trainer default here)" : ""), Step(channelsLast, xLast), images),
            new(noSafePoints, WithoutSafePoints, images),
        };
        if (reference is not null) cases.Add(new("torchvision port", Step(reference, x), images));
        // Forward + backward + SGD step; the backward pass costs about twice the forward.
        Record("training", spec, cases, 6 * macs, note, name => name == "zoo" && !auto ? "zoo (Trainer default here)" : name,
               (name, timing) => name != noSafePoints ? "" : string.Create(CultureInfo.InvariantCulture,
                   $"zoo with safe points (the default: one per {NativeSafety.Interval.TotalMilliseconds:0} ms at most) runs at {timing["zoo"] / timing[noSafePoints]:0.000}x of this"));
        rows.Add(new("memory", spec.Label, "RSS MB while training (steady, after the timed steps)", images,
                     ResidentMemory.CurrentMegabytes(), null, null, null));
        zoo.Dispose();
        channelsLast.Dispose();
        reference?.Dispose();
    }

    void Loaders()
    {
        int workers = Math.Max(1, settings.Threads);
        var (train, test, _) = DataSources.Load("mnist", 0.2, 0, BadDataPolicy.Fail);
        InputSpec lenet;
        using (var model = ModelRegistry.Create("lenet5", 10)) lenet = model.Input;
        var results = new List<(string Name, double Rate)>
        {
            ("mnist IDX, 28x28 random crop",
             LoaderRate(DataSetup.Loaders("mnist", train, test, lenet, lenet.Height, augment: true, 64, workers, 0).Train)),
        };

        var (fashion, _, _) = DataSources.Load("fashion-mnist", 0.2, 0, BadDataPolicy.Fail);
        string folder = Path.Combine(Path.GetTempPath(), $"cnnzoo-bench-{Environment.ProcessId}");
        try
        {
            foreach (var format in new[] { ImageFileFormat.Png, ImageFileFormat.Jpeg })
            {
                string root = Path.Combine(folder, format.ToString().ToLowerInvariant());
                DatasetExport.ToImageFolder(fashion, root, perClass: 60, format);
                var images = Datasets.ImageFolder(root, BadDataPolicy.Fail, ColorMode.Rgb);
                var imageNetSize = new InputSpec(3, 224, 224, 32, 32);
                var loader = DataSetup.Loaders(root, images, images, imageNetSize, 224, augment: true, 32, workers, 0).Train;
                results.Add(($"{format} folder -> 224x224 RGB, random resized crop + flip", LoaderRate(loader)));
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }

        double lenetTraining = rows.FirstOrDefault(r => r is { Section: "training", Model: "lenet5" } && r.Variant.Contains("Trainer default"))
                                   ?.ImagesPerSecond ?? double.NaN;
        foreach (var (name, rate) in results)
        {
            double? ratio = name.StartsWith("mnist", StringComparison.Ordinal) && double.IsFinite(lenetTraining) ? rate / lenetTraining : null;
            rows.Add(new("loader", name, $"{workers} workers", 0, rate, ratio, null, null,
                         ratio is null ? "" : "ratio: loader images/s over LeNet-5 training images/s"));
        }
        Print("loader", null);
    }

    /// <summary>Decode + augment + batch images/s over a whole epoch, median of the repeats.</summary>
    double LoaderRate(DataLoader loader)
    {
        int batches = loader.BatchesPerEpoch;
        LoaderBenchmark.Measure(loader, Math.Min(batches, 4));   // warm-up: threads, caches, JIT
        return Interleaved.Median(Enumerable.Range(0, settings.Repeats).Select(_ => LoaderBenchmark.Measure(loader, batches).ImagesPerSecond));
    }

    /// <summary>LeNet-5 trained by the real <see cref="Trainer"/> on the shipped MNIST; RSS after 100 and after N steps.</summary>
    void MemoryOverTraining()
    {
        var (train, test, _) = DataSources.Load("mnist", 0.2, 0, BadDataPolicy.Fail);
        var recipe = Recipe.For("lenet5");
        var model = ModelRegistry.Create("lenet5", 10, ModelOptions.Parse(recipe.ModelOptions));
        var (trainLoader, testLoader, preprocessing) = DataSetup.Loaders("mnist", train, test, model.Input, model.Input.Height,
                                                                     augment: false, recipe.BatchSize, settings.Threads, 0);   // as the train verb
        int epochs = (int)Math.Ceiling(settings.MemorySteps / (double)trainLoader.BatchesPerEpoch);
        var config = new TrainConfig { Epochs = epochs, Optimizer = recipe.Optimizer, LearningRate = recipe.LearningRate, Schedule = recipe.Schedule };
        string folder = Path.Combine(Path.GetTempPath(), $"cnnzoo-bench-memory-{Environment.ProcessId}");
        var info = new CheckpointInfo
        {
            Model = "lenet5", NumClasses = 10, Classes = train.Classes, InputShape = model.Input.DefaultShape, Preprocessing = preprocessing,
        };
        // RSS at step 100 (the reference), halfway and at the end: a leak grows steadily, allocator warm-up levels off.
        int halfway = settings.MemorySteps / 2;
        var rss = new SortedDictionary<int, double>();
        double managed = double.NaN;
        using var stop = new CancellationTokenSource();
        log($"memory: LeNet-5 on MNIST through the Trainer, {settings.MemorySteps:N0} steps of batch {recipe.BatchSize} ({epochs} epochs, validation and checkpoints included)");
        try
        {
            var trainer = new Trainer(model, config, trainLoader, testLoader, new RunFolder(folder), info);
            trainer.Fit(stop.Token, log: _ => { }, afterStep: step =>
            {
                if (step == 100 || step == halfway || step == settings.MemorySteps) rss[step] = ResidentMemory.CurrentMegabytes();
                if (step == settings.MemorySteps)
                {
                    managed = GC.GetGCMemoryInfo().HeapSizeBytes / 1048576.0;
                    stop.Cancel();
                }
            });
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
            model.Dispose();
        }
        double reference = rss.GetValueOrDefault(100, double.NaN);
        foreach (var (step, megabytes) in rss)
        {
            double growth = megabytes / reference - 1;
            rows.Add(new("memory", "lenet5 training", $"RSS MB after {step:N0} steps", recipe.BatchSize, megabytes,
                         step == 100 ? null : megabytes / reference, null, null,
                         step == 100 ? "" : $"growth {100 * growth:+0.0;-0.0}% since step 100" +
                                            (step == settings.MemorySteps ? $"; managed heap {managed:F0} MB" : "")));
        }
        rows.Add(new("memory", "lenet5 training", "peak RSS MB so far", recipe.BatchSize, ResidentMemory.PeakMegabytes(), null, null, null));
        Print("memory", "lenet5 training");
    }

    void Print(string section, string? model)
    {
        foreach (var row in rows.Where(r => r.Section == section && (model is null || r.Model == model)))
            log("  " + Format(row));
    }

    static string Format(BenchRow r)
    {
        string ratio = r.Ratio is double q ? $"{q,6:F2}x" : "       ";
        string flops = r.GigaFlopsPerSecond is double g ? $"{g,7:F1} GFLOP/s {100 * r.FractionOfMatmul!.Value,5:F1}% of matmul" : "";
        string value = r.Section == "memory" ? $"{r.ImagesPerSecond,10:F0} MB   " : $"{r.ImagesPerSecond,10:F1} img/s";
        return $"{r.Model,-16} {r.Variant,-66} {value} {ratio} {flops}{(r.Note.Length > 0 ? "  [" + r.Note + "]" : "")}";
    }

    /// <summary>The whole table, for the console.</summary>
    public string Table()
        => string.Join("\n", rows.GroupBy(r => r.Section).Select(g => $"[{g.Key}]\n" + string.Join("\n", g.Select(r => "  " + Format(r)))));

    public string Csv()
    {
        static string Cell(double? v) => v is double d && double.IsFinite(d) ? d.ToString("G6", CultureInfo.InvariantCulture) : "";
        static string Text(string s) => s.Contains(',') || s.Contains('"') ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
        var lines = new List<string> { "section,model,variant,batch,value,ratio,gflops_per_s,fraction_of_matmul,note" };
        lines.AddRange(rows.Select(r => string.Join(',', Text(r.Section), Text(r.Model), Text(r.Variant),
            r.Batch.ToString(CultureInfo.InvariantCulture), Cell(r.ImagesPerSecond), Cell(r.Ratio), Cell(r.GigaFlopsPerSecond),
            Cell(r.FractionOfMatmul), Text(r.Note))));
        return string.Join('\n', lines) + "\n";
    }
}
