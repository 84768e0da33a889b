using Cnn.Zoo.Layers;
using Cnn.Zoo.Models;
using Onnx;
using static TorchSharp.torch;

namespace Cnn.Onnx.Import;

/// <summary>
/// Reads the weights of a BasicBlock ResNet backbone from an ONNX graph (as CNTK exports it, e.g. ML.NET's
/// <c>ResNet18.onnx</c>) into the zoo <see cref="ResNet"/> key layout.
/// <para>Initializer names in such graphs are opaque (<c>Parameter91</c>, <c>Constant98</c>), so nothing is matched by
/// name: the importer walks the graph from its input — stem Conv, BatchNormalization, Relu, MaxPool; then residual
/// blocks (Conv-BN-Relu-Conv-BN, an Add with the input or a 1x1 Conv-BN projection, Relu); then average pooling — and
/// names each tensor by its place in that walk. Every attribute that changes the arithmetic is checked against what
/// the zoo layer computes, and every node and initializer of the graph must be accounted for, so a graph that is not
/// this network fails with the node and the expectation rather than loading wrong weights.</para>
/// </summary>
public static class OnnxResNetImporter
{
    /// <summary>BatchNorm epsilon of the zoo layers (TorchSharp's default).</summary>
    const double ZooBatchNormEps = 1e-5;

    /// <summary>Parses <paramref name="onnxPath"/> and imports it; see <see cref="Import(ModelProto, string, ResNetConfig?)"/>.</summary>
    public static OnnxResNetWeights Import(string onnxPath, ResNetConfig? expected = null)
        => Import(ModelProto.Parser.ParseFrom(File.ReadAllBytes(onnxPath)), Path.GetFileName(onnxPath), expected);

    /// <summary>
    /// Walks <paramref name="model"/>'s graph and returns its weights under zoo ResNet keys.
    /// </summary>
    /// <param name="model">A parsed ONNX model.</param>
    /// <param name="source">Name used in error messages (the file name).</param>
    /// <param name="expected">When given, the stage layout the graph must have (block kind Basic).</param>
    /// <exception cref="OnnxGraphMismatchException">The graph is not a BasicBlock ResNet backbone the zoo model can hold.</exception>
    public static OnnxResNetWeights Import(ModelProto model, string source = "onnx", ResNetConfig? expected = null)
    {
        if (expected is not null && expected.Block != ResidualBlockKind.Basic)
            throw new ArgumentException("the importer reads BasicBlock ResNets only", nameof(expected));
        var view = new OnnxGraphView(model.Graph, source);
        var input = view.DataInput();
        var inputShape = OnnxGraphView.Shape(input) ?? [];
        if (inputShape.Count != 4 || inputShape[1] != 3)
            throw view.Fail($"graph input '{input.Name}'", $"expected an N x 3 x H x W image batch, found shape {OnnxGraphView.Format(inputShape)}");

        var walker = new Walker(view);
        var stem = walker.Stem(input.Name);
        var blocks = new List<BlockNodes>();
        string x = stem.Output;
        while (view.Consumers(x) is var next && !(next.Count == 1 && next[0].OpType is "AveragePool" or "GlobalAveragePool"))
        {
            var block = walker.Block(x, blocks.Count);
            blocks.Add(block);
            x = block.Output;
        }
        string pooled = walker.Pool(x, inputShape);
        view.EnsureEverythingUsed();

        var layers = Stages(view, blocks);
        var config = new ResNetConfig(ResidualBlockKind.Basic, layers);
        if (expected is not null && !expected.Layers.SequenceEqual(layers))
            throw view.Fail(null, $"expected stages [{string.Join(", ", expected.Layers)}], the graph has [{string.Join(", ", layers)}]");

        // PyTorch's key order: stem, then per block conv1, bn1, conv2, bn2, downsample.0/1.
        var stateDict = new Dictionary<string, Tensor>();
        var origins = new Dictionary<string, string>();
        try
        {
            walker.Emit(stateDict, origins, "conv1", stem.Conv);
            walker.Emit(stateDict, origins, "bn1", stem.Norm);
            int b = 0;
            for (int s = 0; s < layers.Length; s++)
            {
                for (int i = 0; i < layers[s]; i++, b++)
                {
                    string prefix = $"layer{s + 1}.{i}.";
                    var block = blocks[b];
                    walker.Emit(stateDict, origins, prefix + "conv1", block.Conv1);
                    walker.Emit(stateDict, origins, prefix + "bn1", block.Norm1);
                    walker.Emit(stateDict, origins, prefix + "conv2", block.Conv2);
                    walker.Emit(stateDict, origins, prefix + "bn2", block.Norm2);
                    if (block.Projection is { } p)
                    {
                        walker.Emit(stateDict, origins, prefix + "downsample.0", p.Conv);
                        walker.Emit(stateDict, origins, prefix + "downsample.1", p.Norm);
                    }
                }
            }
        }
        catch
        {
            foreach (var t in stateDict.Values) t.Dispose();
            throw;
        }
        return new OnnxResNetWeights(config, stateDict, origins, input.Name, inputShape, pooled);
    }

    /// <summary>
    /// Groups the chain of blocks into the four stages the zoo ResNet builds: widths 64, 128, 256, 512; the first
    /// block of stages 2-4 has stride 2; a projection shortcut exactly where the zoo block creates <c>downsample</c>.
    /// </summary>
    static int[] Stages(OnnxGraphView view, List<BlockNodes> blocks)
    {
        var layers = new List<int>();
        long width = 64, previousPlanes = 0;
        foreach (var block in blocks)
        {
            long planes = block.Conv1.OutChannels;
            bool opensStage = planes != previousPlanes;
            if (opensStage)
            {
                if (layers.Count == 4)
                    throw view.Fail(Describe(block.Conv1), $"a fifth stage ({planes} channels); a ResNet has four");
                long expectedWidth = 64L << layers.Count;
                long expectedStride = layers.Count == 0 ? 1 : 2;
                if (planes != expectedWidth || block.Conv1.Stride != expectedStride)
                    throw view.Fail(Describe(block.Conv1),
                        $"stage {layers.Count + 1} should open with {expectedWidth} channels at stride {expectedStride}; found {planes} at stride {block.Conv1.Stride}");
                layers.Add(0);
            }
            else if (block.Conv1.Stride != 1)
            {
                throw view.Fail(Describe(block.Conv1), $"stride {block.Conv1.Stride} inside a stage; only a stage's first block downsamples");
            }
            bool needsProjection = block.Conv1.Stride != 1 || block.Conv1.InChannels != planes;
            if (needsProjection != block.Projection is not null)
                throw view.Fail(Describe(block.Conv1), needsProjection
                    ? "a block that changes stride or width needs a 1x1 projection shortcut; found an identity shortcut"
                    : "a projection shortcut where the zoo block uses the identity (same stride and width)");
            layers[^1]++;
            previousPlanes = planes;
            width = planes;
        }
        if (layers.Count != 4)
            throw view.Fail(null, $"expected four stages of residual blocks, found {layers.Count} (ending at {width} channels)");
        return [.. layers];
    }

    static string Describe(ConvNode conv) => OnnxGraphView.Describe(conv.Node);

    internal sealed record ConvNode(NodeProto Node, TensorProto Weight, long InChannels, long OutChannels, long Kernel, long Stride);

    internal sealed record NormNode(NodeProto Node, TensorProto Scale, TensorProto Bias, TensorProto Mean, TensorProto Var);

    internal sealed record ConvNorm(ConvNode Conv, NormNode Norm);

    internal sealed record StemNodes(ConvNode Conv, NormNode Norm, string Output);

    internal sealed record BlockNodes(ConvNode Conv1, NormNode Norm1, ConvNode Conv2, NormNode Norm2, ConvNorm? Projection, string Output);

    /// <summary>The walk itself: each method consumes one piece of the network and checks its attributes.</summary>
    sealed class Walker(OnnxGraphView view)
    {
        public StemNodes Stem(string input)
        {
            var conv = ReadConv(view.SingleConsumer(input, "Conv", "stem convolution conv1"), "stem convolution conv1");
            if (conv.InChannels != 3 || conv.OutChannels != 64 || conv.Kernel != 7 || conv.Stride != 2)
                throw view.Fail(conv.Node, "stem convolution conv1", "3 -> 64 channels, 7x7, stride 2",
                                $"{conv.InChannels} -> {conv.OutChannels}, {conv.Kernel}x{conv.Kernel}, stride {conv.Stride}");
            var norm = ReadNorm(view.SingleConsumer(conv.Node.Output[0], "BatchNormalization", "bn1"), "bn1", conv.OutChannels);
            var relu = Relu(norm.Node.Output[0], "stem ReLU");
            var pool = view.SingleConsumer(relu.Output[0], "MaxPool", "stem max-pool");
            CheckPool(pool, "stem max-pool", kernel: 3, stride: 2, pad: 1);
            if (OnnxGraphView.Int(pool, "ceil_mode", 0) != 0)
                throw view.Fail(pool, "stem max-pool", "ceil_mode 0", OnnxGraphView.Int(pool, "ceil_mode", 0).ToString());
            return new StemNodes(conv, norm, pool.Output[0]);
        }

        public BlockNodes Block(string x, int index)
        {
            string role = $"residual block {index + 1}";
            var readers = view.Consumers(x);
            var convs = readers.Where(n => n.OpType == "Conv").ToList();
            var adds = readers.Where(n => n.OpType == "Add").ToList();
            if (readers.Count != 2 || !(convs.Count == 2 || convs.Count == 1 && adds.Count == 1))
                throw view.Fail($"tensor '{x}'",
                    $"{role}: expected it to feed a 3x3 Conv and either the shortcut Add or a 1x1 projection Conv; it feeds {Names(readers)}");

            // Tell the main branch from the projection: the main branch's BN feeds a Relu, the projection's BN an Add.
            ConvNode? conv1 = null;
            NormNode? norm1 = null;
            ConvNorm? projection = null;
            foreach (var node in convs)
            {
                view.Visit(node);
                var next = view.Consumers(node.Output[0]);
                var bn = next.Count == 1 && next[0].OpType == "BatchNormalization" ? next[0] : null;
                var after = bn is null ? [] : view.Consumers(bn.Output[0]);
                if (bn is null || after.Count != 1 || after[0].OpType is not ("Relu" or "Add"))
                    throw view.Fail(OnnxGraphView.Describe(node), $"{role}: expected Conv -> BatchNormalization -> Relu (main branch) or -> Add (projection shortcut); found Conv -> {Names(next)}{(bn is null ? "" : " -> " + Names(after))}");
                view.Visit(bn);
                if (after[0].OpType == "Relu")
                {
                    if (conv1 is not null) throw view.Fail(OnnxGraphView.Describe(node), $"{role}: two main branches");
                    conv1 = ReadConv(node, role + " conv1");
                    norm1 = ReadNorm(bn, role + " bn1", conv1.OutChannels);
                }
                else
                {
                    if (projection is not null) throw view.Fail(OnnxGraphView.Describe(node), $"{role}: two projection shortcuts");
                    var conv = ReadConv(node, role + " downsample.0");
                    projection = new ConvNorm(conv, ReadNorm(bn, role + " downsample.1", conv.OutChannels));
                }
            }
            if (conv1 is null || norm1 is null)
                throw view.Fail($"tensor '{x}'", $"{role}: expected a main branch Conv -> BatchNormalization -> Relu; found only a projection");
            if (conv1.Kernel != 3)
                throw view.Fail(conv1.Node, role + " conv1", "a 3x3 kernel", $"{conv1.Kernel}x{conv1.Kernel}");

            var relu = Relu(norm1.Node.Output[0], role + " ReLU");
            var conv2 = ReadConv(view.SingleConsumer(relu.Output[0], "Conv", role + " conv2"), role + " conv2");
            if (conv2.Kernel != 3 || conv2.Stride != 1 || conv2.InChannels != conv1.OutChannels || conv2.OutChannels != conv1.OutChannels)
                throw view.Fail(conv2.Node, role + " conv2", $"3x3, stride 1, {conv1.OutChannels} -> {conv1.OutChannels} channels",
                                $"{conv2.Kernel}x{conv2.Kernel}, stride {conv2.Stride}, {conv2.InChannels} -> {conv2.OutChannels}");
            var norm2 = ReadNorm(view.SingleConsumer(conv2.Node.Output[0], "BatchNormalization", role + " bn2"), role + " bn2", conv2.OutChannels);
            var add = view.SingleConsumer(norm2.Node.Output[0], "Add", role + " residual sum");

            string shortcut = projection?.Norm.Node.Output[0] ?? x;
            if (add.Input.Count != 2 || !add.Input.Contains(shortcut) || !add.Input.Contains(norm2.Node.Output[0]))
                throw view.Fail(OnnxGraphView.Describe(add), $"{role}: expected the sum of '{norm2.Node.Output[0]}' and the shortcut '{shortcut}'; found inputs [{string.Join(", ", add.Input)}]");
            if (projection is null && adds[0] != add)
                throw view.Fail(OnnxGraphView.Describe(adds[0]), $"{role}: the block input feeds an Add other than the block's residual sum");
            if (projection is { } p)
            {
                if (p.Conv.Kernel != 1 || p.Conv.Stride != conv1.Stride || p.Conv.InChannels != conv1.InChannels || p.Conv.OutChannels != conv1.OutChannels)
                    throw view.Fail(p.Conv.Node, role + " downsample.0", $"1x1, stride {conv1.Stride}, {conv1.InChannels} -> {conv1.OutChannels} channels",
                                    $"{p.Conv.Kernel}x{p.Conv.Kernel}, stride {p.Conv.Stride}, {p.Conv.InChannels} -> {p.Conv.OutChannels}");
            }
            var output = Relu(add.Output[0], role + " output ReLU");
            return new BlockNodes(conv1, norm1, conv2, norm2, projection, output.Output[0]);
        }

        /// <summary>The final pooling must average the whole last feature map and be the graph's output.</summary>
        public string Pool(string x, IReadOnlyList<long> inputShape)
        {
            var pool = view.Visit(view.Consumers(x)[0]);
            if (pool.OpType == "AveragePool")
            {
                // A fixed-window pool equals the zoo model's global pooling only when the window is the whole map.
                long h = inputShape[2], w = inputShape[3];
                if (h <= 0 || w <= 0 || h % 32 != 0 || w % 32 != 0)
                    throw view.Fail(pool, "final pooling", "a fixed input size divisible by 32 to check the AveragePool window",
                                    $"input shape {OnnxGraphView.Format(inputShape)}");
                var kernel = OnnxGraphView.Ints(pool, "kernel_shape");
                if (kernel is null || kernel.Count != 2 || kernel[0] != h / 32 || kernel[1] != w / 32)
                    throw view.Fail(pool, "final pooling", $"a {h / 32}x{w / 32} window (the whole last feature map)", OnnxGraphView.Format(kernel));
                var pads = OnnxGraphView.Ints(pool, "pads");
                if (pads is not null && pads.Any(p => p != 0))
                    throw view.Fail(pool, "final pooling", "no padding", OnnxGraphView.Format(pads));
                CheckAutoPad(pool, "final pooling");
            }
            string pooled = pool.Output[0];
            if (view.Consumers(pooled).Count > 0 || !view.IsGraphOutput(pooled))
                throw view.Fail(OnnxGraphView.Describe(pool), $"expected the pooled features '{pooled}' to be the graph output; they feed {Names(view.Consumers(pooled))} (classifier heads are not imported)");
            return pooled;
        }

        NodeProto Relu(string x, string role) => view.SingleConsumer(x, "Relu", role);

        ConvNode ReadConv(NodeProto node, string role)
        {
            if (node.Input.Count != 2)
                throw view.Fail(node, role, "a bias-free convolution (inputs: data, weight), as each one is followed by BatchNormalization",
                                $"{node.Input.Count} inputs");
            var weight = view.Initializer(node, 1, role + " weight");
            var dims = weight.Dims;
            if (dims.Count != 4 || dims[2] != dims[3] || dims[2] % 2 == 0)
                throw view.Fail(node, role, "a weight of shape [out, in, k, k] with odd k", OnnxGraphView.Format(dims));
            long k = dims[2];
            if (OnnxGraphView.Int(node, "group", 1) != 1)
                throw view.Fail(node, role, "group 1", OnnxGraphView.Int(node, "group", 1).ToString());
            var dilations = OnnxGraphView.Ints(node, "dilations");
            if (dilations is not null && dilations.Any(d => d != 1))
                throw view.Fail(node, role, "dilations [1, 1]", OnnxGraphView.Format(dilations));
            var kernel = OnnxGraphView.Ints(node, "kernel_shape");
            if (kernel is not null && !kernel.SequenceEqual([k, k]))
                throw view.Fail(node, role, $"kernel_shape [{k}, {k}] (the weight's)", OnnxGraphView.Format(kernel));
            CheckAutoPad(node, role);
            long stride = Stride(node, role);
            CheckPads(node, role, k / 2, stride);
            return new ConvNode(node, weight, dims[1], dims[0], k, stride);
        }

        NormNode ReadNorm(NodeProto node, string role, long channels)
        {
            if (node.Input.Count != 5 || node.Output.Count != 1)
                throw view.Fail(node, role, "inference-mode BatchNormalization (5 inputs, 1 output)", $"{node.Input.Count} inputs, {node.Output.Count} outputs");
            double eps = OnnxGraphView.Float(node, "epsilon", 1e-5f);
            if (Math.Abs(eps - ZooBatchNormEps) > 1e-9)
                throw view.Fail(node, role, $"epsilon {ZooBatchNormEps:G} (the zoo's BatchNorm2d)", eps.ToString("G"));
            if (OnnxGraphView.Int(node, "spatial", 1) != 1)
                throw view.Fail(node, role, "spatial 1 (per-channel statistics)", OnnxGraphView.Int(node, "spatial", 1).ToString());
            var tensors = new TensorProto[4];
            string[] names = ["scale", "bias", "running mean", "running variance"];
            for (int i = 0; i < 4; i++)
            {
                tensors[i] = view.Initializer(node, i + 1, $"{role} {names[i]}");
                if (tensors[i].Dims.Count != 1 || tensors[i].Dims[0] != channels)
                    throw view.Fail(node, $"{role} {names[i]}", $"shape [{channels}]", OnnxGraphView.Format(tensors[i].Dims));
            }
            return new NormNode(node, tensors[0], tensors[1], tensors[2], tensors[3]);
        }

        long Stride(NodeProto node, string role)
        {
            var strides = OnnxGraphView.Ints(node, "strides");
            if (strides is null) return 1;
            if (strides.Count != 2 || strides[0] != strides[1])
                throw view.Fail(node, role, "equal strides on both axes", OnnxGraphView.Format(strides));
            return strides[0];
        }

        /// <summary>
        /// ONNX pads are [top, left, bottom, right]; the zoo layers pad <paramref name="pad"/> on every side. CNTK exports
        /// its "same" padding as one less at the end for stride-2 layers (e.g. [3, 3, 2, 2] for the 7x7/2 stem). The
        /// windows start at the same place, and for an even input size the last window never reaches the extra row,
        /// so the output is identical; for inputs divisible by 32 every layer sees an even size.
        /// </summary>
        void CheckPads(NodeProto node, string role, long pad, long stride)
        {
            var pads = OnnxGraphView.Ints(node, "pads") ?? [0, 0, 0, 0];
            bool beginOk = pads.Count == 4 && pads[0] == pad && pads[1] == pad;
            bool endOk = pads.Count == 4 && pads[2] == pads[3] && (pads[2] == pad || stride == 2 && pads[2] == pad - 1);
            if (!beginOk || !endOk)
                throw view.Fail(node, role, $"pads [{pad}, {pad}, {pad}, {pad}]{(stride == 2 && pad > 0 ? $" or [{pad}, {pad}, {pad - 1}, {pad - 1}]" : "")}",
                                OnnxGraphView.Format(pads));
        }

        void CheckAutoPad(NodeProto node, string role)
        {
            string autoPad = OnnxGraphView.String(node, "auto_pad", "NOTSET");
            if (autoPad is not ("NOTSET" or ""))
                throw view.Fail(node, role, "auto_pad NOTSET (explicit pads)", autoPad);
        }

        void CheckPool(NodeProto node, string role, long kernel, long stride, long pad)
        {
            var shape = OnnxGraphView.Ints(node, "kernel_shape");
            if (shape is null || !shape.SequenceEqual([kernel, kernel]))
                throw view.Fail(node, role, $"kernel_shape [{kernel}, {kernel}]", OnnxGraphView.Format(shape));
            if (Stride(node, role) != stride)
                throw view.Fail(node, role, $"stride {stride}", OnnxGraphView.Format(OnnxGraphView.Ints(node, "strides")));
            var dilations = OnnxGraphView.Ints(node, "dilations");
            if (dilations is not null && dilations.Any(d => d != 1))
                throw view.Fail(node, role, "dilations [1, 1]", OnnxGraphView.Format(dilations));
            CheckAutoPad(node, role);
            CheckPads(node, role, pad, stride);
        }

        public void Emit(Dictionary<string, Tensor> stateDict, Dictionary<string, string> origins, string key, ConvNode conv)
        {
            stateDict[key + ".weight"] = view.ToTensor(conv.Weight, conv.Node, key + ".weight");
            origins[key + ".weight"] = $"{conv.Weight.Name} ({OnnxGraphView.Describe(conv.Node)})";
        }

        public void Emit(Dictionary<string, Tensor> stateDict, Dictionary<string, string> origins, string key, NormNode norm)
        {
            (string Suffix, TensorProto Proto)[] parts =
                [("weight", norm.Scale), ("bias", norm.Bias), ("running_mean", norm.Mean), ("running_var", norm.Var)];
            foreach (var (suffix, proto) in parts)
            {
                stateDict[$"{key}.{suffix}"] = view.ToTensor(proto, norm.Node, $"{key}.{suffix}");
                origins[$"{key}.{suffix}"] = $"{proto.Name} ({OnnxGraphView.Describe(norm.Node)})";
            }
            stateDict[key + ".num_batches_tracked"] = tensor(0L);
            origins[key + ".num_batches_tracked"] = "(not in ONNX; 0)";
        }

        static string Names(IEnumerable<NodeProto> nodes)
            => nodes.Any() ? string.Join(", ", nodes.Select(OnnxGraphView.Describe)) : "nothing";
    }
}
