using Cnn.Zoo.Analysis;
using Cnn.Zoo.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static Cnn.Onnx.Export.OnnxGraphBuilder;
using static TorchSharp.torch;

namespace Cnn.Onnx.Export;

/// <summary>
/// Writes the zoo's typed layers as ONNX nodes, in eval-mode semantics (running batch-norm statistics, no dropout).
/// Each layer type of <c>Cnn.Zoo/Layers</c> has one writer that follows its forward pass, composed from the writers of
/// its children, which are found by their state-dict names (<c>conv1</c>, <c>bn1</c>, <c>downsample</c>, ...): the
/// names are the contract the zoo keeps with torchvision, so they are stable.
/// <para>A batch norm that directly follows a convolution is folded into it (<see cref="Convolution"/>), as
/// <see cref="Zoo.Inference.BatchNormFolding"/> does for TorchSharp; the model itself is only read, never changed.</para>
/// </summary>
internal sealed class OnnxLayerWriter(OnnxGraphBuilder graph)
{
    /// <summary>Writes <paramref name="module"/> applied to the value <paramref name="x"/>; returns its output value.</summary>
    /// <param name="path">The module's state-dict prefix, which names its nodes and weights.</param>
    public string Write(nn.Module module, string path, string x) => module switch
    {
        // Blocks whose forward pass calls their children in registration order.
        Sequential or ConvNormAct or DepthwiseSeparable => Chain(module, path, x, [.. module.named_children().Select(c => c.name)]),
        // BasicConv2d applies its ReLU functionally, so it has no child for it.
        BasicConv2d => Relu(Chain(module, path, x, "conv", "bn"), Join(path, "relu")),
        BasicBlock => Residual(module, path, x, Chain(module, path, x, "conv1", "bn1", "relu", "conv2", "bn2")),
        Bottleneck => Residual(module, path, x, Chain(module, path, x, "conv1", "bn1", "relu", "conv2", "bn2", "relu", "conv3", "bn3")),
        InvertedResidual block => block.UsesResidual
            ? Add(Chain(block, path, x, "conv"), x, Join(path, "add"))
            : Chain(block, path, x, "conv"),
        // N x (1x1 + 3x3 + 5x5 + pool) x H x W: four branches on the same input, stacked along the channels.
        InceptionBlock => Concat([.. new[] { "branch1", "branch2", "branch3", "branch4" }.Select(b => Write(Child(module, path, b), Join(path, b), x))],
                                 Join(path, "concat")),
        Conv2d conv => Convolution(conv, null, path, x),
        BatchNorm2d norm => BatchNormalization(norm, path, x),
        ReLU => Relu(x, path),
        ReLU6 => graph.Node("Clip", path, [x, graph.Constant("relu6_min", [0f]), graph.Constant("relu6_max", [6f])], graph.Shape(x)),
        Tanh => graph.Node("Tanh", path, [x], graph.Shape(x)),
        // Dropout is the identity at inference; Identity is what batch-norm folding leaves behind.
        Identity or Dropout => x,
        MaxPool2d pool => MaxPool(pool, path, x),
        AvgPool2d pool => AveragePool(pool, path, x),
        AdaptiveAvgPool2d pool => AdaptiveAveragePool(pool.output_size, path, x),
        Linear linear => Gemm(linear, path, x),
        TorchSharp.Modules.Flatten flatten when flatten.start_dim == 1 && flatten.end_dim == -1 => Flatten(x, path),
        _ => throw Unsupported(module, path),
    };

    /// <summary>
    /// Writes the named children of <paramref name="owner"/> one after another, as a forward pass that calls them in
    /// this order does; a name may repeat (a shared ReLU). A <see cref="BatchNorm2d"/> right after a
    /// <see cref="Conv2d"/> is folded into it. A child that is absent (an optional <c>downsample</c>) is an error.
    /// </summary>
    public string Chain(nn.Module owner, string path, string x, params string[] names)
    {
        for (int i = 0; i < names.Length; i++)
        {
            var child = Child(owner, path, names[i]);
            if (child is Conv2d conv && i + 1 < names.Length && Child(owner, path, names[i + 1]) is BatchNorm2d norm && Folds(conv, norm))
            {
                x = Convolution(conv, norm, Join(path, names[i]), x);
                i++;
            }
            else
            {
                x = Write(child, Join(path, names[i]), x);
            }
        }
        return x;
    }

    /// <summary>N x C x H x W to N x (C*H*W), as <c>flatten(1)</c> before a classifier.</summary>
    public string Flatten(string x, string path)
    {
        long[] shape = graph.Shape(x);
        long features = shape.Skip(1).Aggregate(1L, (a, b) => a * b);
        return graph.Node("Flatten", path, [x], [-1, features], Int("axis", 1));
    }

    /// <summary>Adaptive average pooling to <paramref name="outputSize"/> (one side for both, or height and width).</summary>
    public string AdaptiveAveragePool(long[] outputSize, string path, string x)
    {
        long[] shape = graph.Shape(x);
        long height = shape[2], width = shape[3];
        long outHeight = outputSize[0] > 0 ? outputSize[0] : height;
        long outWidth = outputSize[^1] > 0 ? outputSize[^1] : width;
        // Global pooling does not depend on the input size.
        if (outHeight == 1 && outWidth == 1) return graph.Node("GlobalAveragePool", path, [x], [-1, shape[1], 1, 1]);
        // When the output divides the input, adaptive pooling is an ordinary pooling window (a 1x1 window is the identity).
        if (height % outHeight == 0 && width % outWidth == 0)
        {
            long[] window = [height / outHeight, width / outWidth];
            if (window[0] == 1 && window[1] == 1) return x;
            return graph.Node("AveragePool", path, [x], [-1, shape[1], outHeight, outWidth],
                              Ints("kernel_shape", window), Ints("strides", window));
        }
        // Otherwise the windows overlap or repeat (a 2x2 map pooled to 7x7): output row i averages input rows
        // floor(i*H/h) to ceil((i+1)*H/h) - 1, a fixed linear map, so Y = A_rows X A_columns^T with two MatMuls.
        string rows = graph.Constant($"{path}.rows_{outHeight}x{height}", AveragingMatrix(outHeight, height), outHeight, height);
        string columns = graph.Constant($"{path}.columns_{width}x{outWidth}", Transpose(AveragingMatrix(outWidth, width), outWidth, width), width, outWidth);
        string pooledRows = graph.Node("MatMul", Join(path, "rows"), [rows, x], [-1, shape[1], outHeight, width]);
        return graph.Node("MatMul", path, [pooledRows, columns], [-1, shape[1], outHeight, outWidth]);
    }

    /// <summary>Element-wise sum of two values of the same shape (a residual connection).</summary>
    public string Add(string a, string b, string path)
    {
        long[] shape = graph.Shape(a);
        if (!shape.SequenceEqual(graph.Shape(b)))
            throw new InvalidOperationException($"{path}: cannot add {Format(shape)} and {Format(graph.Shape(b))}");
        return graph.Node("Add", path, [a, b], shape);
    }

    public string Relu(string x, string path) => graph.Node("Relu", path, [x], graph.Shape(x));

    /// <summary>The end of a ResNet block: main path + shortcut (the input, or <c>downsample</c> when present), then ReLU.</summary>
    string Residual(nn.Module block, string path, string x, string main)
    {
        string shortcut = HasChild(block, "downsample") ? Chain(block, path, x, "downsample") : x;
        return Chain(block, path, Add(main, shortcut, Join(path, "add")), "relu");
    }

    string Concat(string[] values, string path)
    {
        long[] first = graph.Shape(values[0]);
        long channels = values.Sum(v => graph.Shape(v)[1]);
        return graph.Node("Concat", path, values, [first[0], channels, .. first[2..]], Int("axis", 1));
    }

    /// <summary>
    /// A convolution, with <paramref name="norm"/> folded into its weights when given: W' = W * g and
    /// b' = (b - mean) * g + beta with g = gamma / sqrt(var + eps) per output channel. Computed in double precision,
    /// so the folded weights are as close to the two-step float32 computation as float32 allows.
    /// </summary>
    string Convolution(Conv2d conv, BatchNorm2d? norm, string path, string x)
    {
        if (conv.padding_type is not null)
            throw new NotSupportedException($"{path}: a Conv2d with padding '{conv.padding_type}' is not exported; give the padding as numbers");
        if (conv.padding_mode != PaddingModes.Zeros)
            throw new NotSupportedException($"{path}: a Conv2d with padding mode {conv.padding_mode} is not exported; ONNX Conv pads with zeros");
        long[] shape = graph.Shape(x);
        long[] kernel = conv.kernel_size, stride = conv.stride ?? [1, 1], padding = conv.padding ?? [0, 0], dilation = conv.dilation ?? [1, 1];
        if (shape[1] != conv.in_channels)
            throw new InvalidOperationException($"{path}: the convolution takes {conv.in_channels} channels; it receives {Format(shape)}");
        long[] outShape = [-1, conv.out_channels, Side(shape[2], 0), Side(shape[3], 1)];
        long Side(long input, int d) => ConvArithmetic.OutputSize(input, kernel[d], stride[d], padding[d], dilation[d]);

        using var scope = NewDisposeScope();
        Tensor weight = conv.weight!.detach();
        Tensor? bias = conv.bias?.detach();
        if (norm is not null)
        {
            var scale = (norm.weight?.detach().to_type(ScalarType.Float64) ?? ones(conv.out_channels, ScalarType.Float64, weight.device))
                        / (norm.running_var!.to_type(ScalarType.Float64) + norm.eps).sqrt();
            var shift = norm.bias?.detach().to_type(ScalarType.Float64) ?? zeros(conv.out_channels, ScalarType.Float64, weight.device);
            var oldBias = bias?.to_type(ScalarType.Float64) ?? zeros(conv.out_channels, ScalarType.Float64, weight.device);
            weight = weight.to_type(ScalarType.Float64) * scale.reshape(-1, 1, 1, 1);
            bias = (oldBias - norm.running_mean!.to_type(ScalarType.Float64)) * scale + shift;
        }
        var inputs = new List<string> { x, graph.Initializer(Join(path, "weight"), weight) };
        if (bias is not null) inputs.Add(graph.Initializer(Join(path, "bias"), bias));
        return graph.Node("Conv", path, inputs, outShape,
                          Ints("kernel_shape", kernel), Ints("strides", stride), Ints("pads", Pads(padding)),
                          Ints("dilations", dilation), Int("group", conv.groups));
    }

    /// <summary>Whether <paramref name="norm"/> can be folded into <paramref name="conv"/>, by the rule BatchNormFolding uses.</summary>
    static bool Folds(Conv2d conv, BatchNorm2d norm)
        => norm.running_mean is not null && norm.running_var is not null && norm.running_mean.shape[0] == conv.out_channels;

    /// <summary>A batch norm that does not follow a convolution: ONNX's inference-mode BatchNormalization.</summary>
    string BatchNormalization(BatchNorm2d norm, string path, string x)
    {
        if (norm.running_mean is null || norm.running_var is null)
            throw new NotSupportedException($"{path}: a BatchNorm2d without running statistics normalises with each batch's own; ONNX inference cannot");
        long channels = norm.running_mean.shape[0];
        using var scope = NewDisposeScope();
        string scale = graph.Initializer(Join(path, "weight"), norm.weight?.detach() ?? ones(channels));
        string shift = graph.Initializer(Join(path, "bias"), norm.bias?.detach() ?? zeros(channels));
        string mean = graph.Initializer(Join(path, "running_mean"), norm.running_mean);
        string variance = graph.Initializer(Join(path, "running_var"), norm.running_var);
        return graph.Node("BatchNormalization", path, [x, scale, shift, mean, variance], graph.Shape(x), Float("epsilon", (float)norm.eps));
    }

    string MaxPool(MaxPool2d pool, string path, string x)
    {
        long[] kernel = pool.kernel_size, stride = pool.stride ?? kernel, padding = pool.padding ?? [0, 0], dilation = pool.dilation ?? [1, 1];
        long[] shape = graph.Shape(x);
        long Side(long input, int d) => ConvArithmetic.OutputSize(input, kernel[d], stride[d], padding[d], dilation[d], pool.ceil_mode);
        return graph.Node("MaxPool", path, [x], [-1, shape[1], Side(shape[2], 0), Side(shape[3], 1)],
                          Ints("kernel_shape", kernel), Ints("strides", stride), Ints("pads", Pads(padding)),
                          Ints("dilations", dilation), Int("ceil_mode", pool.ceil_mode ? 1 : 0));
    }

    string AveragePool(AvgPool2d pool, string path, string x)
    {
        if (pool.divisor_override is not null)
            throw new NotSupportedException($"{path}: AvgPool2d with divisor_override is not exported; ONNX AveragePool divides by the window");
        long[] kernel = pool.kernel_size, stride = pool.stride ?? kernel, padding = pool.padding ?? [0, 0];
        long[] shape = graph.Shape(x);
        long Side(long input, int d) => ConvArithmetic.OutputSize(input, kernel[d], stride[d], padding[d], 1, pool.ceil_mode);
        return graph.Node("AveragePool", path, [x], [-1, shape[1], Side(shape[2], 0), Side(shape[3], 1)],
                          Ints("kernel_shape", kernel), Ints("strides", stride), Ints("pads", Pads(padding)),
                          Int("ceil_mode", pool.ceil_mode ? 1 : 0), Int("count_include_pad", pool.count_include_pad ? 1 : 0));
    }

    /// <summary>A linear layer as Gemm: x W^T + b on a flattened N x features input.</summary>
    string Gemm(Linear linear, string path, string x)
    {
        long[] shape = graph.Shape(x);
        if (shape.Length != 2 || shape[1] != linear.in_features)
            throw new InvalidOperationException($"{path}: the linear layer takes N x {linear.in_features}; it receives {Format(shape)}");
        var inputs = new List<string> { x, graph.Initializer(Join(path, "weight"), linear.weight!) };
        if (linear.bias is not null) inputs.Add(graph.Initializer(Join(path, "bias"), linear.bias));
        return graph.Node("Gemm", path, inputs, [-1, linear.out_features], Int("transB", 1));
    }

    /// <summary>Symmetric padding [h, w] as ONNX's [h_begin, w_begin, h_end, w_end].</summary>
    static long[] Pads(long[] padding) => [padding[0], padding[1], padding[0], padding[1]];

    /// <summary>Row i averages columns floor(i*n/m) .. ceil((i+1)*n/m) - 1: PyTorch's adaptive pooling windows.</summary>
    static float[] AveragingMatrix(long outputs, long inputs)
    {
        var matrix = new float[outputs * inputs];
        for (long i = 0; i < outputs; i++)
        {
            long start = i * inputs / outputs, end = ((i + 1) * inputs + outputs - 1) / outputs;
            for (long j = start; j < end; j++) matrix[i * inputs + j] = 1f / (end - start);
        }
        return matrix;
    }

    static float[] Transpose(float[] matrix, long rows, long columns)
    {
        var result = new float[matrix.Length];
        for (long i = 0; i < rows; i++)
            for (long j = 0; j < columns; j++)
                result[j * rows + i] = matrix[i * columns + j];
        return result;
    }

    static nn.Module Child(nn.Module owner, string path, string name)
        => owner.named_children().FirstOrDefault(c => c.name == name).module
           ?? throw new InvalidOperationException(
               $"{owner.GetType().Name} at '{path}' has no child '{name}'; its children are [{string.Join(", ", owner.named_children().Select(c => c.name))}]");

    static bool HasChild(nn.Module owner, string name) => owner.named_children().Any(c => c.name == name);

    static string Join(string path, string name) => path.Length == 0 ? name : path + "." + name;

    static string Format(long[] shape) => "[" + string.Join(", ", shape.Select(d => d < 0 ? "N" : d.ToString(System.Globalization.CultureInfo.InvariantCulture))) + "]";

    static NotSupportedException Unsupported(nn.Module module, string path)
        => new($"'{path}' is a {module.GetType().Name}, a layer the ONNX exporter does not know. It writes Conv2d, BatchNorm2d, " +
               "ReLU, ReLU6, Tanh, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Linear, Flatten, Dropout, Identity, Sequential and " +
               "the blocks of Cnn.Zoo.Layers; add a case for this layer to OnnxLayerWriter.Write.");
}
