using Cnn.Training.Data;
using Cnn.Training.Training;
using Cnn.Zoo;
using Cnn.Zoo.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Training.Cli;

/// <summary>A model rebuilt from a checkpoint written by train or finetune, with what the checkpoint says about it.</summary>
public static class TrainedModel
{
    /// <summary>Rebuilds the model a checkpoint was trained as, loads its weights, and puts it in eval mode on <paramref name="device"/>.</summary>
    public static (ZooModel Model, CheckpointInfo Info) Load(string path, Device device)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"checkpoint {path} not found (expected a .ckpt written by train or finetune)", path);
        var info = Checkpoint.ReadInfo(path);
        var model = ModelRegistry.Create(info.Model, info.NumClasses, new ModelOptions(info.ModelOptions));
        Checkpoint.Load(path, model);
        model.to(device);
        model.eval();
        return (model, info);
    }

    /// <summary>The transform the checkpoint's held-out images went through in training, for samples of
    /// <paramref name="geometry"/>.</summary>
    public static ITransform EvalTransform(CheckpointInfo info, SampleGeometry geometry, InputSpec input)
        => DataSetup.EvalPipeline(geometry, input, (int)info.InputShape[^1], info.EvalResize, info.Mean, info.Std);
}
