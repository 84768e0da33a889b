using Cnn.Tests.Support;
using Cnn.Training.Data;
using Cnn.Training.Reporting;
using Cnn.Training.Training;
using Cnn.Zoo;
using Cnn.Zoo.Inference;
using Cnn.Zoo.Layers;
using Cnn.Zoo.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Tests.Zoo;

/// <summary>bfloat16 inference: chosen only where the CPU computes it natively, and close to float32 where it is used.</summary>
[TestClass]
public sealed class PrecisionTests
{

    static readonly CpuCapabilities WithAvx512Bf16 = new(Avx512Bf16: true, AmxBf16: false);

    /// <summary>
    /// Largest |bf16 logit - fp32 logit| allowed, as a fraction of the largest |fp32 logit|. Measured on every
    /// registered model (deterministic weights, 8 images of 64x64 or the model's fixed size): 0.6% (AlexNet) to 1.4%
    /// (VGG-16, the longest chain of rounded activations), 1.0% for ResNet-18. bfloat16 keeps 8 significant bits, so
    /// each rounding is within 0.4%; the errors of a few dozen layers partly cancel. 3% leaves room for other CPUs'
    /// kernels (accumulation order) while still failing on a broken kernel, which is off by tens of percent.
    /// </summary>
    const double LogitTolerance = 0.03;

    /// <summary>
    /// Whether this machine runs bf16 the way <c>auto</c> would use it: natively, on oneDNN kernels that can size their
    /// blocks by the CPU's caches. Elsewhere the kernels are not the ones users get: where CPUID describes no caches
    /// <see cref="OneDnnGuard"/> caps oneDNN at AVX, and under any ISA cap bf16 is emulated.
    /// </summary>
    static bool NativeBFloat16Here => CpuCapabilities.Current.UsableBFloat16 && OneDnnGuard.Setting == OneDnnSetting.Default
                                      && OneDnnGuard.UserCap is null;

    [TestMethod]
    [DynamicData(nameof(ZooModels.PerFamily), typeof(ZooModels))]
    public void BFloat16LogitsStayCloseToFloat32OnACpuWithNativeBf16AndCacheLeaves(string name)
    {
        const int images = 8;
        Machine.Require(NativeBFloat16Here, $"needs a CPU with native bf16 whose CPUID describes its caches (a Zen 4 or Sapphire Rapids " +
                                $"machine with the cache leaf filled); here: {CpuCapabilities.Current}, oneDNN {OneDnnGuard.Setting}. " +
                                "auto runs fp32 here, so the bf16 kernels users get cannot be checked");
        using var model = ModelRegistry.Create(name, 10);
        DeterministicWeights.Apply(model);   // batch-norm statistics far from 0/1, so folding before the cast matters
        model.eval();
        using var x = DeterministicWeights.Input(ZooModels.SmallInput(model, images));
        Tensor expected;
        using (no_grad()) expected = model.call(x);   // the plain float32 model, the one checked against PyTorch
        using var _ = expected;

        using var bf16 = InferenceModel.Optimize(model, new InferenceOptions(Precision: InferencePrecision.BFloat16));
        using var actual = bf16.call(x);

        Assert.AreEqual(InferencePrecision.BFloat16, bf16.Precision.Precision);
        Assert.AreEqual(ScalarType.Float32, actual.dtype, "outputs come back as float32");
        Assert.IsTrue(bf16.Model.modules().OfType<TorchSharp.Modules.Linear>().All(l => l.weight!.dtype == ScalarType.BFloat16),
                      "the classifier's weights are bfloat16");
        double scale = expected.abs().max().item<float>();
        double error = (actual - expected).abs().max().item<float>() / scale;
        using var agree = actual.argmax(1).eq(expected.argmax(1));
        long agreeing = agree.sum().item<long>();
        Console.WriteLine($"{name}: max |bf16 - fp32| = {error:P3} of the output scale, top-1 agrees on {agreeing}/{images}");
        Assert.IsTrue(error <= LogitTolerance, $"{name}: bf16 logits differ from fp32 by {error:P2} of the output scale (allowed {LogitTolerance:P0})");
        // Deterministic weights are not trained, so some images have near-tied logits that any rounding may swap
        // (measured: VGG-13 2 of 16, every other model none); a broken kernel disagrees on most.
        Assert.IsTrue(agreeing >= images * 3 / 4, $"{name}: top-1 agrees on only {agreeing} of {images} images");
    }

    [TestMethod]
    public void AutoStaysFloat32OnACpuWithoutNativeBFloat16()
    {
        using var plain = ModelRegistry.Create("resnet18", 10);
        using var probed = ModelRegistry.Create("resnet18", 10);
        DeterministicWeights.Apply(plain);
        DeterministicWeights.Apply(probed);
        using var fp32 = InferenceModel.Optimize(plain, new InferenceOptions(Precision: InferencePrecision.Float32));
        using var calibration = DeterministicWeights.Input(2, 3, 64, 64);
        using var auto = InferenceModel.Optimize(probed, new InferenceOptions(Precision: InferencePrecision.Auto, Cpu: CpuCapabilities.None,
                                                                              Calibration: calibration));

        Assert.AreEqual(InferencePrecision.Float32, auto.Precision.Precision);
        StringAssert.Contains(auto.Precision.Reason, "no native bf16");
        Assert.IsTrue(auto.Model.parameters().All(p => p.dtype == ScalarType.Float32));
        Assert.AreEqual(fp32.Description, auto.Description, "nothing else changes either");
        using var x = DeterministicWeights.Input(2, 3, 64, 64);
        using var expected = fp32.call(x);
        using var actual = auto.call(x);
        Assert.IsTrue(torch.equal(expected, actual).all().item<bool>(), "the same computation as an explicit fp32 model");
    }

    [TestMethod]
    public void AutoStaysFloat32WhereCpuidDescribesNoCaches()
    {
        var guest = new CpuCapabilities(Avx512Bf16: true, AmxBf16: false, CacheTopology: false);
        var choice = PrecisionChoice.Resolve(InferencePrecision.Auto, guest, new InputSpec(3, 224, 224, 32, 32));
        Assert.AreEqual(InferencePrecision.Float32, choice.Precision);
        StringAssert.Contains(choice.Reason, "no caches");
        var forced = PrecisionChoice.Resolve(InferencePrecision.BFloat16, guest, new InputSpec(3, 224, 224, 32, 32));
        Assert.AreEqual(InferencePrecision.BFloat16, forced.Precision, "a forced precision is kept");
        StringAssert.Contains(forced.Reason, "crash", "and the risk is named");
    }

    [TestMethod]
    public void TheDefaultIsFloat32EvenOnACpuThatClaimsNativeBFloat16()
    {
        foreach (var cpu in new[] { WithAvx512Bf16, new CpuCapabilities(false, AmxBf16: true), CpuCapabilities.None })
        {
            using var resnet = InferenceModel.Optimize(ModelRegistry.Create("resnet18", 10), new InferenceOptions(Cpu: cpu));
            Assert.AreEqual(InferencePrecision.Float32, resnet.Precision.Precision, cpu.ToString());
            Assert.IsTrue(resnet.Model.parameters().All(p => p.dtype == ScalarType.Float32), cpu.ToString());
        }
        using var plain = InferenceModel.Optimize(ModelRegistry.Create("resnet18", 10));
        Assert.AreEqual(InferencePrecision.Float32, plain.Precision.Precision, "no options: float32 on this machine too");
    }

    [TestMethod]
    public void AutoWithoutCalibrationImagesStaysFloat32AndSaysSo()
    {
        using var resnet = InferenceModel.Optimize(ModelRegistry.Create("resnet18", 10),
                                                   new InferenceOptions(Precision: InferencePrecision.Auto, Cpu: WithAvx512Bf16));
        Assert.AreEqual(InferencePrecision.Float32, resnet.Precision.Precision);
        StringAssert.Contains(resnet.Precision.Reason, "no calibration images");

        using var lenet = InferenceModel.Optimize(ModelRegistry.Create("lenet5", 10),
                                                  new InferenceOptions(Precision: InferencePrecision.Auto, Cpu: WithAvx512Bf16));
        Assert.AreEqual(InferencePrecision.Float32, lenet.Precision.Precision, "32x32 digits are too small for bf16 to pay");
        StringAssert.Contains(lenet.Precision.Reason, "too small");

        var amx = PrecisionChoice.Resolve(InferencePrecision.Auto, new CpuCapabilities(false, AmxBf16: true), new InputSpec(3, 224, 224, 32, 32));
        Assert.AreEqual(InferencePrecision.BFloat16, amx.Precision, "AMX qualifies a CPU as well");
    }

    /// <summary>
    /// A model bf16 cannot represent: its two classes' logits are 10 and 10 x (1 + 2^-10), which bf16's 8 significant
    /// bits round to the same value, so bf16 ties (argmax: class 0) where fp32 picks class 1, whatever the body's
    /// kernels compute (the classifier ignores the features). auto must refuse, say why, and leave exact fp32 weights.
    /// </summary>
    [TestMethod]
    public void AutoRefusesBFloat16ForAModelWhoseCalibrationDisagrees()
    {
        ZooModel Build()
        {
            var model = ModelRegistry.Create("resnet18", 2, ModelOptions.Parse(["layers=1,1,1,1"]));
            DeterministicWeights.Apply(model);
            var fc = model.modules().OfType<TorchSharp.Modules.Linear>().Last();
            using var _ = no_grad();
            fc.weight!.zero_();
            fc.bias!.copy_(tensor(new[] { 10f, 10f * (1 + 1f / 1024) }));
            return model;
        }
        using var plain = Build();
        plain.eval();
        using var x = DeterministicWeights.Input(4, 3, 32, 32);
        Tensor expected;
        using (no_grad()) expected = plain.call(x);
        using var _ = expected;

        using var auto = InferenceModel.Optimize(Build(), new InferenceOptions(Precision: InferencePrecision.Auto, Cpu: WithAvx512Bf16, Calibration: x));

        Assert.AreEqual(InferencePrecision.Float32, auto.Precision.Precision, auto.Precision.Reason);
        StringAssert.Contains(auto.Precision.Reason, "top-1 changed on 4 of 4 calibration images");
        StringAssert.Contains(Cnn.Training.Cli.PrecisionOption.Describe(auto), "Precision: fp32 (auto: fp32, because bf16 failed");
        Assert.IsTrue(auto.Model.parameters().All(p => p.dtype == ScalarType.Float32), "every weight is float32 again");
        using var actual = auto.call(x);
        Assert.IsTrue(actual.argmax(1).eq(1).all().item<bool>(), "fp32 picks class 1");
        double error = (actual - expected).abs().max().item<float>();
        Assert.IsTrue(error < 1e-5, $"the reverted model computes the plain fp32 model's logits (off by {error:G3})");
    }

    [TestMethod]
    public void TheCalibrationVerdictNamesWhatFailed()
    {
        using var fp32 = tensor(new[,] { { 1f, 2f, 0f }, { 3f, 0f, 1f } });
        using var close = tensor(new[,] { { 1.01f, 2f, 0f }, { 3f, 0.02f, 1f } });
        using var swapped = tensor(new[,] { { 2f, 1f, 0f }, { 3f, 0f, 1f } });
        using var drifted = tensor(new[,] { { 1f, 2.5f, 0f }, { 3f, 0f, 1f } });

        var pass = PrecisionCalibration.Judge(fp32, close);
        Assert.IsTrue(pass.Passed, pass.ToString());
        Assert.AreEqual("top-1 agrees on 2 of 2 calibration images, logits within 0.7% of the fp32 scale (allowed 3%)", pass.ToString());
        var top1 = PrecisionCalibration.Judge(fp32, swapped);
        Assert.IsFalse(top1.Passed);
        Assert.AreEqual(1, top1.TopOneChanged);
        var scale = PrecisionCalibration.Judge(fp32, drifted);
        Assert.IsFalse(scale.Passed, "the top-1 agrees, but a logit moved 1/6 of the scale");
        StringAssert.Contains(scale.ToString(), "16.7%");
        Assert.ThrowsExactly<ArgumentException>(() => PrecisionCalibration.Judge(fp32, fp32[0]));
    }

    [TestMethod]
    public void ForcedPrecisionsAreKeptAndEmulationIsNamed()
    {
        var input = new InputSpec(3, 224, 224, 32, 32);
        Assert.AreEqual(InferencePrecision.Float32, PrecisionChoice.Resolve(InferencePrecision.Float32, WithAvx512Bf16, input).Precision);
        var emulated = PrecisionChoice.Resolve(InferencePrecision.BFloat16, CpuCapabilities.None, input);
        Assert.AreEqual(InferencePrecision.BFloat16, emulated.Precision);
        StringAssert.Contains(emulated.Reason, "emulates");
        Assert.AreEqual(InferencePrecision.Float32, PrecisionChoice.Resolve(InferencePrecision.Auto, WithAvx512Bf16, input, onCpu: false).Precision);
    }

    [TestMethod]
    public void TheProbeAgreesWithTheCpuFlagsLinuxReports()
    {
        Machine.Require(OperatingSystem.IsLinux() && File.Exists("/proc/cpuinfo"), "needs /proc/cpuinfo to compare with");
        // The kernel lists a flag only where the CPU has it and the kernel lets programs use it: an independent reading.
        var flags = File.ReadLines("/proc/cpuinfo").First(l => l.StartsWith("flags", StringComparison.Ordinal))
                        .Split(':')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        var detected = CpuCapabilities.Detect();
        Assert.AreEqual(flags.Contains("avx512_bf16"), detected.Avx512Bf16, detected.ToString());
        Assert.AreEqual(flags.Contains("amx_bf16") && flags.Contains("amx_tile"), detected.AmxBf16, detected.ToString());
        // Linux lists a CPU's caches in sysfs from the same CPUID leaves; a guest without them gets no cache folder.
        Assert.AreEqual(Directory.Exists("/sys/devices/system/cpu/cpu0/cache/index0"), detected.CacheTopology, detected.ToString());
    }

    /// <summary>
    /// The guard on a trained checkpoint: LeNet-5 trained briefly on the shipped MNIST, then evaluated on the
    /// 2,000 held-out digits in both precisions. bfloat16 must cost at most 0.3 points of top-1 (6 digits).
    /// </summary>
    [TestMethod]
    [TestCategory("Slow")]   // trains LeNet-5 for two epochs, then evaluates 2,000 digits twice
    public void ATrainedLeNet5LosesAtMostAThirdOfAPointInBFloat16()
    {
        var (trainSet, testSet) = Datasets.IdxFolder(Path.Combine(TestPaths.RepoRoot, "data", "mnist"));
        var input = new LeNet5().Input;
        var (train, test, _) = DataSetup.Loaders("mnist", Datasets.Subset(trainSet, 300, 1), testSet, input, 32,
                                                    augment: false, batchSize: 64, workers: 2, seed: 1);
        torch.manual_seed(1);
        using var folder = new TempFolder("bf16-lenet");
        var run = new RunFolder(folder.Path);
        var info = new CheckpointInfo { Model = "lenet5", NumClasses = 10, ModelOptions = new() { ["activation"] = "relu" } };
        new Trainer(new LeNet5(activation: Activation.ReLU), new TrainConfig { Epochs = 2, LearningRate = 3e-3 }, train, test, run, info)
            .Fit(log: _ => { });

        EvaluationResult Evaluate(InferencePrecision precision)
        {
            var model = new LeNet5(activation: Activation.ReLU);
            Checkpoint.Load(run.LastCheckpoint, model);
            using var optimized = InferenceModel.Optimize(model, new InferenceOptions(Precision: precision));
            return Trainer.Evaluate(optimized, test, torch.CPU, 10);
        }
        var fp32 = Evaluate(InferencePrecision.Float32);
        var bf16 = Evaluate(InferencePrecision.BFloat16);

        Console.WriteLine($"LeNet-5, {fp32.Samples} held-out digits: top-1 fp32 {fp32.Top1:P2}, bf16 {bf16.Top1:P2}");
        Assert.AreEqual(2000, bf16.Samples);
        Assert.IsTrue(fp32.Top1 > 0.9, $"the checkpoint should have learned the digits; top-1 {fp32.Top1:P1}");
        Assert.IsTrue(Math.Abs(fp32.Top1 - bf16.Top1) <= 0.003, $"bf16 top-1 {bf16.Top1:P2} vs fp32 {fp32.Top1:P2}: more than 0.3 points apart");
    }
}
