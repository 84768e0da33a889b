using System.Diagnostics;
using Cnn.Onnx;
using Cnn.Zoo;
using Cnn.Zoo.Inference;
using TorchSharp;
using static TorchSharp.torch;

torch.set_num_threads(2);
int batch = 8;
foreach (string name in args.Length > 0 ? args : new[] { "resnet18", "mobilenet_v2" })
{
    using var model = ModelRegistry.Create(name);
    model.eval();
    using var ort = OnnxRuntimeModel.Create(model, new OnnxRuntimeOptions(Threads: 2));
    using var fast = InferenceModel.Optimize(model);
    using var x = torch.rand(batch, 3, 224, 224);
    double Time(nn.Module<Tensor, Tensor> m, int iters)
    {
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < iters; i++) { using var _ = no_grad(); using var y = m.call(x); }
        return iters * batch / sw.Elapsed.TotalSeconds;
    }
    Time(fast, 3); Time(ort, 3);
    var a = new List<double>(); var b = new List<double>();
    for (int r = 0; r < 7; r++) { a.Add(Time(fast, 5)); b.Add(Time(ort, 5)); }
    a.Sort(); b.Sort();
    Console.WriteLine($"{name}: torch optimised {a[3]:F1} img/s, ONNX Runtime {b[3]:F1} img/s, ratio ORT/torch {b[3] / a[3]:F2} (samples torch {string.Join(" ", a.Select(v => v.ToString("F0")))}; ort {string.Join(" ", b.Select(v => v.ToString("F0")))})");
}
