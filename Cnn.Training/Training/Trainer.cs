using System.Diagnostics;
using Cnn.Training.Data;
using Cnn.Transfer;
using Cnn.Zoo.IO;
using Cnn.Zoo.Inference;
using Cnn.Zoo.Models;
using Cnn.Zoo.Runtime;
using TorchSharp;
using DataLoader = Cnn.Training.Data.DataLoader;
using static TorchSharp.torch;

namespace Cnn.Training.Training;

/// <summary>
/// The training loop: forward, loss, backward, optimizer step, repeated; validation every epoch; best and last
/// checkpoints; early stopping; resume; Ctrl+C that finishes the step and saves; a NaN guard. Every step runs in a
/// dispose scope so memory stays flat however long training runs.
/// </summary>
public sealed class Trainer
{
    readonly ZooModel model;
    readonly TrainConfig config;
    readonly DataLoader train;
    readonly DataLoader? validation;
    readonly RunFolder run;
    readonly CheckpointInfo template;
    readonly Device device;
    readonly optim.Optimizer optimizer;
    readonly IReadOnlyList<double> baseRates;
    readonly LearningRateSchedule schedule;
    readonly Action<nn.Module, bool> setTrainingMode;
    readonly nn.Module<Tensor, Tensor>? forward;

    /// <param name="groups">Parameter groups with their base rates; null trains every parameter at the config's rate.</param>
    /// <param name="setTrainingMode">Switches train/eval; by default frozen batch norms stay in eval (Cnn.Transfer.Freezing).</param>
    /// <param name="forward">What each batch goes through instead of the model, which is still the one optimised and
    /// saved: <see cref="FeatureCache.Head"/> when the loaders hold cached features.</param>
    public Trainer(ZooModel model, TrainConfig config, DataLoader train, DataLoader? validation, RunFolder run,
                   CheckpointInfo template, IEnumerable<ParameterGroup>? groups = null,
                   Action<nn.Module, bool>? setTrainingMode = null, nn.Module<Tensor, Tensor>? forward = null)
    {
        this.forward = forward;
        this.model = model;
        this.config = config;
        this.train = train;
        this.validation = validation;
        this.run = run;
        this.template = template;
        this.setTrainingMode = setTrainingMode ?? Cnn.Transfer.Freezing.SetTrainingMode;
        device = torch.device(config.Device);
        model.to(device);
        var paramGroups = (groups ?? [new ParameterGroup(model.parameters().ToList(), config.LearningRate)]).ToList();
        optimizer = OptimizerFactory.Create(config.Optimizer, paramGroups, config.WeightDecay, config.Momentum, config.Nesterov);
        baseRates = optimizer.ParamGroups.Select(g => g.LearningRate).ToList();
        int steps = Math.Max(1, train.BatchesPerEpoch);
        schedule = new LearningRateSchedule(config.Schedule, steps * config.Epochs, steps, config.WarmupEpochs * steps,
                                            config.StepEpochs, config.Gamma);
    }

    public optim.Optimizer Optimizer => optimizer;

    /// <summary>Trains from the start, or from <paramref name="resumeFrom"/> (a last.ckpt) with identical results.</summary>
    /// <param name="afterStep">Called after each optimizer step with the number of steps done (the memory benchmark reads RSS there).</param>
    public TrainResult Fit(CancellationToken cancel = default, string? resumeFrom = null, Action<string>? log = null,
                          Action<int>? afterStep = null)
    {
        log ??= Console.WriteLine;
        using var safety = NativeSafety.Hold();   // the finalizer thread waits for safe points (between steps)
        var state = template;
        if (resumeFrom is not null)
        {
            state = Checkpoint.Load(resumeFrom, model, optimizer, restoreRng: true);
            run.RestoreMetrics(state.Epoch);
            log($"Resumed from {resumeFrom}: epoch {state.Epoch} done, step {state.Step}, batch {state.BatchInEpoch} of epoch {state.Epoch + 1}");
        }

        bool higherIsBetter = config.Monitor != "val_loss";
        double best = resumeFrom is null ? (higherIsBetter ? double.NegativeInfinity : double.PositiveInfinity) : state.BestMetric;
        int stale = state.EpochsWithoutImprovement, step = state.Step;
        EvaluationResult? lastValidation = null;

        for (int epoch = state.Epoch; epoch < config.Epochs; epoch++)
        {
            int skip = epoch == state.Epoch ? state.BatchInEpoch : 0;
            var clock = Stopwatch.StartNew();
            setTrainingMode(model, true);
            var bar = new ProgressBar($"epoch {epoch + 1}/{config.Epochs}", train.BatchesPerEpoch);
            double lossSum = 0;
            long correct = 0, seen = 0;
            int batchIndex = 0;
            foreach (var batch in train.Epoch(epoch))
            {
                using (batch)
                {
                    if (batchIndex++ < skip) continue;
                    double lr = SetLearningRate(step);
                    var (loss, hits) = TrainStep(batch);
                    if (!double.IsFinite(loss))
                        throw new TrainingDivergedException(
                            $"the loss became {loss} at epoch {epoch + 1}, step {step + 1} (learning rate {lr:G3}); training stopped. " +
                            $"The last good checkpoint is {(File.Exists(run.LastCheckpoint) ? run.LastCheckpoint : "not written yet")}. " +
                            "Try a lower --lr or --clip-grad.");
                    step++;
                    afterStep?.Invoke(step);
                    lossSum += loss * batch.Count;
                    correct += hits;
                    seen += batch.Count;
                    bar.Update(batchIndex, seen, $"loss {lossSum / seen:F4} acc {100.0 * correct / seen:F2}% lr {lr:G3}");
                }
                if (cancel.IsCancellationRequested)
                {
                    Save(run.LastCheckpoint, state with { Epoch = epoch, Step = step, BatchInEpoch = batchIndex,
                                                          BestMetric = best, EpochsWithoutImprovement = stale });
                    log($"\nInterrupted: saved {run.LastCheckpoint} (epoch {epoch + 1}, batch {batchIndex}). Continue with --resume {run.LastCheckpoint}");
                    return new TrainResult(StopReason.Interrupted, epoch, lastValidation, best);
                }
            }

            var row = new Dictionary<string, double>
            {
                ["epoch"] = epoch + 1,
                ["train_loss"] = seen == 0 ? double.NaN : lossSum / seen,
                ["train_acc"] = seen == 0 ? double.NaN : (double)correct / seen,
                ["lr"] = optimizer.ParamGroups.First().LearningRate,
                ["train_seconds"] = clock.Elapsed.TotalSeconds,
                ["train_images_per_sec"] = seen / Math.Max(1e-9, clock.Elapsed.TotalSeconds),
            };
            if (validation is not null)
            {
                lastValidation = forward is null
                    ? Validate(validation)
                    : Evaluate(forward, validation, device, template.NumClasses, config.LabelSmoothing, config.Layout);
                row["val_loss"] = lastValidation.Loss;
                row["val_top1"] = lastValidation.Top1;
                row["val_top5"] = lastValidation.Top5;
            }
            ResidentMemory.ReleaseFreeNativeMemory();
            row["rss_mb"] = ResidentMemory.CurrentMegabytes();
            run.AppendEpoch(row);

            double metric = row.TryGetValue(config.Monitor, out double m) ? m : row["train_acc"];
            bool improved = higherIsBetter ? metric > best : metric < best;
            if (improved) { best = metric; stale = 0; } else stale++;
            var info = state with
            {
                Epoch = epoch + 1, Step = step, BatchInEpoch = 0, BestMetric = best, EpochsWithoutImprovement = stale,
                Metrics = row,
            };
            Save(run.LastCheckpoint, info);
            if (improved) AtomicFile.Copy(run.LastCheckpoint, run.BestCheckpoint);   // the same state: its bytes, not a second serialisation
            log(EpochLine(row, improved));

            if (config.Patience is int patience && stale >= patience)
            {
                log($"Early stopping: {config.Monitor} did not improve for {patience} epoch(s); best {best:F4}");
                return new TrainResult(StopReason.EarlyStopping, epoch + 1, lastValidation, best);
            }
        }
        return new TrainResult(StopReason.Completed, config.Epochs, lastValidation, best);
    }

    double SetLearningRate(int step)
    {
        double factor = schedule.Factor(step);
        int i = 0;
        foreach (var group in optimizer.ParamGroups) group.LearningRate = baseRates[i++] * factor;
        return baseRates[0] * factor;
    }

    (double Loss, long Correct) TrainStep(Batch batch)
    {
        NativeSafety.SafePoint();
        using var scope = NewDisposeScope();
        var images = MemoryFormat.Arrange(batch.Images.to(device), config.Layout);
        var labels = batch.Labels.to(device);
        optimizer.zero_grad();
        Tensor logits, loss;
        if (forward is null && model is IAuxiliaryClassifiers aux && aux.HasAuxiliary)
        {
            var (main, extra) = aux.ForwardWithAuxiliary(images);
            logits = main;
            loss = Loss(main, labels);
            foreach (var a in extra) loss = loss + aux.AuxiliaryWeight * Loss(a, labels);
        }
        else
        {
            logits = (forward ?? model).call(images);
            loss = Loss(logits, labels);
        }
        double value = loss.item<float>();
        if (!double.IsFinite(value)) return (value, 0);
        loss.backward();
        if (config.ClipGradNorm is double clip)
            nn.utils.clip_grad_norm_(model.parameters().Where(p => p.requires_grad), clip);
        optimizer.step();
        long hits = logits.argmax(1).eq(labels).sum().item<long>();
        return (value, hits);
    }

    Tensor Loss(Tensor logits, Tensor labels)
        => nn.functional.cross_entropy(logits, labels, label_smoothing: config.LabelSmoothing);

    /// <summary>Saves with the recipe this run trains by (the stage's, for a fine-tuning stage), so the checkpoint says how it was made.</summary>
    void Save(string path, CheckpointInfo info) => Checkpoint.Save(path, model, optimizer, info with { Training = config });

    static string EpochLine(Dictionary<string, double> r, bool improved)
    {
        string val = r.ContainsKey("val_top1")
            ? $" | val loss {r["val_loss"]:F4} top-1 {100 * r["val_top1"]:F2}% top-5 {100 * r["val_top5"]:F2}%"
            : "";
        return $"epoch {r["epoch"]:F0}: train loss {r["train_loss"]:F4} acc {100 * r["train_acc"]:F2}%{val}" +
               $" | {r["train_images_per_sec"]:F0} img/s | RSS {r["rss_mb"]:F0} MB{(improved ? " | best so far" : "")}";
    }

    /// <summary>
    /// The epoch's held-out scores, computed on a snapshot of the model by the fastest engine that gives its float32
    /// answers (<see cref="InferencePass"/>: ONNX Runtime on a CPU, 2-2.5x the training model's speed in eval mode for
    /// ResNet-18 at 112 px on 2 cores). The snapshot is dropped afterwards.
    /// </summary>
    EvaluationResult Validate(DataLoader validation)
    {
        using var pass = new InferencePass(model, device, featuresOnly: false);
        return Evaluate(pass, validation, device, template.NumClasses, config.LabelSmoothing, MemoryLayout.Nchw);
    }

    /// <summary>Evaluates in eval mode under no_grad: loss, top-1, top-5 and the confusion matrix.</summary>
    public static EvaluationResult Evaluate(nn.Module<Tensor, Tensor> model, DataLoader loader, Device device, int numClasses,
                                            double labelSmoothing = 0, MemoryLayout layout = MemoryLayout.Auto)
    {
        bool wasTraining = model.training;
        using var safety = NativeSafety.Hold();
        model.eval();
        var confusion = new long[numClasses, numClasses];
        double lossSum = 0;
        long top1 = 0, top5 = 0;
        int samples = 0;
        try
        {
            using var _ = no_grad();
            foreach (var batch in loader.Epoch(0))
            {
                using (batch)
                using (var scope = NewDisposeScope())
                {
                    var labels = batch.Labels.to(device);
                    var logits = model.call(MemoryFormat.Arrange(batch.Images.to(device), layout));
                    lossSum += nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.Sum,
                                                           label_smoothing: labelSmoothing).item<float>();
                    int k = (int)Math.Min(5, logits.shape[1]);
                    var topk = logits.topk(k, 1).indexes;
                    var hit = topk.eq(labels.unsqueeze(1));
                    top1 += hit[.., 0].sum().item<long>();
                    top5 += hit.any(1).sum().item<long>();
                    var predicted = topk[.., 0].cpu().data<long>().ToArray();
                    var truth = batch.Labels.cpu().data<long>().ToArray();
                    for (int i = 0; i < truth.Length; i++) confusion[truth[i], predicted[i]]++;
                    samples += batch.Count;
                }
            }
        }
        finally
        {
            model.train(wasTraining);
        }
        int n = Math.Max(1, samples);
        return new EvaluationResult(lossSum / n, (double)top1 / n, (double)top5 / n, confusion, samples);
    }
}
