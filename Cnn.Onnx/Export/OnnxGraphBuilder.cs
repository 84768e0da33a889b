using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;
using static TorchSharp.torch;

namespace Cnn.Onnx.Export;

/// <summary>
/// Builds an ONNX graph in dataflow order: each node is added after the nodes that compute its inputs, so the graph
/// comes out topologically sorted as ONNX requires. Node names, computed values and initializers share one namespace
/// and every name is made unique here. The shape of each value is tracked (the batch dimension as -1), because some
/// layers — adaptive pooling, the classifier — are written from the sizes they receive.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    /// <summary>The symbolic name of the batch dimension in the graph's input and output.</summary>
    public const string BatchDimension = "batch";

    readonly GraphProto graph = new();
    readonly HashSet<string> names = new(StringComparer.Ordinal);
    readonly Dictionary<string, long[]> shapes = new(StringComparer.Ordinal);
    readonly HashSet<string> initializers = new(StringComparer.Ordinal);
    readonly Dictionary<string, string> constants = new(StringComparer.Ordinal);

    public OnnxGraphBuilder(string name) => graph.Name = name;

    public GraphProto Graph => graph;

    /// <summary>The shape of a value computed so far; -1 stands for the batch dimension.</summary>
    public long[] Shape(string value)
        => shapes.TryGetValue(value, out var shape) ? shape
           : throw new InvalidOperationException($"no value named '{value}' has been written to the graph");

    /// <summary>Declares the graph's float input of shape batch x <paramref name="shape"/>.</summary>
    public string Input(string name, IReadOnlyList<long> shape)
    {
        Claim(name);
        long[] full = [-1, .. shape];
        graph.Input.Add(ValueInfo(name, full));
        shapes[name] = full;
        return name;
    }

    /// <summary>Makes <paramref name="value"/> the graph output under <paramref name="name"/> (renaming the node that computes it).</summary>
    public void Output(string value, string name)
    {
        var producer = graph.Node.LastOrDefault(n => n.Output.Contains(value))
                       ?? throw new InvalidOperationException($"the graph output '{value}' is not computed by any node");
        if (value != name)
        {
            if (graph.Node.Any(n => n.Input.Contains(value)))
                throw new InvalidOperationException($"'{value}' feeds other nodes, so it cannot be renamed to the output '{name}'");
            Claim(name);
            producer.Output[producer.Output.IndexOf(value)] = name;
            shapes[name] = shapes[value];
        }
        graph.Output.Add(ValueInfo(name, shapes[name]));
    }

    /// <summary>Adds a node with one output named after the node (made unique), of shape <paramref name="outputShape"/>.</summary>
    public string Node(string opType, string name, IEnumerable<string> inputs, long[] outputShape, params AttributeProto[] attributes)
    {
        string unique = Unique(name);
        var node = new NodeProto { OpType = opType, Name = unique };
        foreach (string input in inputs)
        {
            if (!shapes.ContainsKey(input) && !initializers.Contains(input))
                throw new InvalidOperationException($"{opType} '{unique}' reads '{input}', which nothing computed before it");
            node.Input.Add(input);
        }
        node.Output.Add(unique);
        node.Attribute.AddRange(attributes);
        graph.Node.Add(node);
        shapes[unique] = outputShape;
        return unique;
    }

    /// <summary>A float32 initializer holding <paramref name="values"/> (copied to the CPU; any layout or dtype).</summary>
    public string Initializer(string name, Tensor values)
    {
        using var scope = NewDisposeScope();
        var dense = values.detach().cpu().to_type(ScalarType.Float32).contiguous();
        return AddInitializer(name, ByteString.CopyFrom(dense.bytes), dense.shape);
    }

    /// <summary>A small constant, written once per graph however often it is asked for (e.g. ReLU6's bounds).</summary>
    public string Constant(string name, float[] values, params long[] dims)
    {
        if (constants.TryGetValue(name, out string? existing)) return existing;
        string written = AddInitializer(name, ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())), dims);
        constants[name] = written;
        return written;
    }

    string AddInitializer(string name, ByteString littleEndianFloats, long[] dims)
    {
        // ONNX raw_data is little-endian, as are the machines .NET and libtorch run on.
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("writing ONNX raw_data needs a little-endian machine");
        var tensor = new TensorProto { Name = Unique(name), DataType = (int)TensorProto.Types.DataType.Float, RawData = littleEndianFloats };
        tensor.Dims.AddRange(dims);
        graph.Initializer.Add(tensor);
        initializers.Add(tensor.Name);
        return tensor.Name;
    }

    public static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    public static AttributeProto Int(string name, long value)
        => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value)
        => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    string Unique(string name)
    {
        string candidate = name;
        for (int i = 1; names.Contains(candidate); i++) candidate = $"{name}_{i}";
        names.Add(candidate);
        return candidate;
    }

    void Claim(string name)
    {
        if (!names.Add(name)) throw new InvalidOperationException($"the name '{name}' is already used in the graph");
    }

    static ValueInfoProto ValueInfo(string name, long[] shape)
    {
        var tensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = new TensorShapeProto() };
        foreach (long dim in shape)
        {
            tensorType.Shape.Dim.Add(dim < 0
                ? new TensorShapeProto.Types.Dimension { DimParam = BatchDimension }
                : new TensorShapeProto.Types.Dimension { DimValue = dim });
        }
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensorType } };
    }
}
