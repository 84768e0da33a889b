using Cnn.Training.Data;
using Cnn.Training.Reporting;
using Cnn.Training.Training;
using Cnn.Transfer;
using Cnn.Transfer.Pretrained;
using Cnn.Zoo;
using Cnn.Zoo.Models;

namespace Cnn.Training.Cli;

public static partial class Commands
{
    /// <summary>
    /// Transfer learning as the course notes describe it: start from someone else's weights, replace the head for
    /// your classes, train the head (or the last layers) with the body frozen, then optionally unfreeze everything and
    /// train on at lower, layer-wise decreasing rates. Saves the result in the zoo's format and PyTorch's.
    /// </summary>
    static int Finetune(Args a)
    {
        string weights = a.String("weights", "builtin", "a .pt/.pth/.bin/.safetensors file, or builtin (resnet18_2223, ImageNet)")!;
        string modelName = a.String("model", weights == "builtin" ? "resnet18_2223" : null, "zoo model the weights belong to") ?? "";
        string data = a.String("data", "fashion-mnist", "mnist, fashion-mnist or a folder")!;
        string freeze = a.String("freeze", "all-but-head", "all-but-head, none, or N (the first N weight layers, numbered as in 'summary')")!;
        int epochs = a.Int("epochs", 8, "epochs with the body frozen", 1);
        int unfreezeEpochs = a.Int("unfreeze-epochs", 4, "then epochs with everything trainable (0: skip)", 0);
        double lr = a.Double("lr", 1e-3, "learning rate of the head (Adam)", 0);
        double lowerLr = a.Double("unfrozen-lr", 1e-4, "head learning rate once unfrozen; earlier layer groups get halved rates", 0);
        int perClass = a.Int("train-per-class", 0, "use only this many training images per class (0: all)", 0);
        int size = a.Int("input-size", 112, "square input side", 32);
        int batchSize = a.Int("batch-size", 32, "batch size", 1);
        int workers = a.Int("workers", 2, "data-loading threads", 1);
        bool augment = a.Flag("augment", "random crops and flips while training");
        string normStatistics = a.String("bn-stats", "keep", "after unfreezing: keep the pretrained batch-norm statistics, or update them from your data")!;
        string runs = a.String("out", "runs", "folder that receives the run folder")!;
        var (device, seed) = Runtime(a);
        if (a.Help) { Console.WriteLine(a.Usage("finetune --weights FILE|builtin [--model NAME] --data FOLDER --freeze all-but-head")); return 0; }
        a.EnsureNoUnknown();
        if (normStatistics is not ("keep" or "update"))
            throw new UsageException($"--bn-stats: expected keep or update; found '{normStatistics}'");

        var (trainSet, testSet, source) = DataSetup.Load(data, 0.2, seed, BadDataPolicy.Fail);
        if (perClass > 0) trainSet = Datasets.Subset(trainSet, perClass, seed);
        int classes = trainSet.Classes.Count;
        ZooModel model;
        CheckpointInfo info;
        if (weights == "builtin")
        {
            model = PretrainedBackbones.Create(modelName, classes);
            var backbone = PretrainedBackbones.Get(modelName);
            info = new CheckpointInfo
            {
                Model = "resnet18", NumClasses = classes, Classes = trainSet.Classes,
                ModelOptions = new() { ["layers"] = string.Join(",", backbone.Config.Layers) },
            };
        }
        else
        {
            if (modelName == "") throw new UsageException("--model: name the zoo model the weights belong to (see 'models')");
            model = ModelRegistry.Create(modelName, classes);
            var report = Weights.Load(model, weights, strict: true, skipPrefixes: [model.ClassifierName]);
            Console.WriteLine(report);
            info = new CheckpointInfo { Model = modelName, NumClasses = classes, Classes = trainSet.Classes };
        }

        int frozen = freeze switch
        {
            "all-but-head" => Freezing.FreezeAllButHead(model),
            "none" => 0,
            _ when int.TryParse(freeze, out int n) && n >= 0 => Freezing.FreezeFirst(model, n),
            _ => throw new UsageException($"--freeze: expected all-but-head, none or a number of layers; found '{freeze}'"),
        };
        var (trainLoader, testLoader, mean, std) = Loaders(data, trainSet, testSet, model, size, augment, batchSize, workers, seed);
        info = info with { InputShape = [model.Input.Channels, size, size], Mean = mean, Std = std };
        var run = RunFolder.Create(runs, modelName);
        run.WriteCommand(Environment.GetCommandLineArgs().Skip(1),
                         new { weights, modelName, data, freeze, epochs, unfreezeEpochs, lr, lowerLr, perClass, size, normStatistics });
        Console.WriteLine($"Fine-tuning {modelName} from {weights} on {source}: {trainSet.Count} training, {testSet.Count} held-out images, {classes} classes");
        Console.WriteLine($"Frozen: {frozen} parameter tensors ({freeze}); trainable parameters {Freezing.TrainableParameters(model).Sum(p => p.numel()):N0}");
        Console.WriteLine($"Run folder: {run.Path}");

        var config = new TrainConfig { Epochs = epochs, Optimizer = OptimizerKind.Adam, LearningRate = lr, Device = device.ToString() };
        var result = new Trainer(model, config, trainLoader, testLoader, run, info).Fit();
        Console.WriteLine($"Stage 1 (frozen body): held-out top-1 {100 * result.LastValidation!.Top1:F2}%");
        if (unfreezeEpochs > 0)
        {
            Freezing.Unfreeze(model);
            var groups = ParameterGroups.Discriminative(model, lowerLr, 0.5, 3)
                .Select(g => new ParameterGroup(g.Parameters.ToList(), g.LearningRate));
            var stage2 = new RunFolder(Path.Combine(run.Path, "unfrozen"));
            var config2 = config with { Epochs = unfreezeEpochs, LearningRate = lowerLr };
            Action<TorchSharp.torch.nn.Module, bool> mode = normStatistics == "keep"
                ? Freezing.SetTrainingModeKeepingNormStatistics
                : Freezing.SetTrainingMode;
            result = new Trainer(model, config2, trainLoader, testLoader, stage2, info, groups, mode).Fit();
            Console.WriteLine($"Stage 2 (all layers, discriminative rates): held-out top-1 {100 * result.LastValidation!.Top1:F2}%");
        }
        Weights.Save(model, run.File("model.pt"));
        Weights.Save(model, run.File("model.safetensors"));
        Checkpoint.Save(run.File("final.ckpt"), model, null, info with { Epoch = epochs + unfreezeEpochs });
        Reports.WriteFinal(run, model, info, result.LastValidation, trainLoader, result);
        Console.WriteLine($"Saved {run.File("final.ckpt")} (cnnzoo eval/predict) and model.pt / model.safetensors (PyTorch load_state_dict, strict)");
        return 0;
    }
}
