using Cnn.Zoo.Layers;
using Cnn.Zoo.Models;
using Onnx;
using static TorchSharp.torch;

namespace Cnn.Onnx.Import;

/// <summary>
/// Weights read from an ONNX BasicBlock ResNet, under the zoo <see cref="ResNet"/>'s state-dict keys.
/// The tensors still expect the ONNX graph's own input convention; see <see cref="InputFold"/>.
/// </summary>
/// <param name="Config">The stage layout found in the graph, e.g. Basic [2, 2, 2, 3].</param>
/// <param name="StateDict">Every key of a zoo ResNet with <paramref name="Config"/> except the classifier (<c>fc.*</c>),
/// in PyTorch's state-dict order (module by module). BatchNorm <c>num_batches_tracked</c> is 0 (ONNX does not record it).</param>
/// <param name="Origins">For each key, the ONNX initializer and node it came from (for reports and debugging).</param>
/// <param name="InputName">The graph's data input.</param>
/// <param name="InputShape">Its declared shape (-1 for symbolic dimensions), e.g. [1, 3, 224, 224].</param>
/// <param name="OutputName">The graph output holding the pooled features.</param>
public sealed record OnnxResNetWeights(ResNetConfig Config, Dictionary<string, Tensor> StateDict,
                                       IReadOnlyDictionary<string, string> Origins, string InputName,
                                       IReadOnlyList<long> InputShape, string OutputName) : IDisposable
{
    public void Dispose()
    {
        foreach (var t in StateDict.Values) t.Dispose();
        StateDict.Clear();
    }
}
