using System.Runtime.InteropServices;
using Onnx;
using static TorchSharp.torch;

namespace Cnn.Onnx.Import;

/// <summary>The ONNX graph is not the one an importer expects: names the node, what was expected and what was found.</summary>
public sealed class OnnxGraphMismatchException(string source, string? node, string message)
    : Exception($"{source}: {(node is null ? "" : node + ": ")}{message}")
{
    /// <summary>The file (or description) of the graph.</summary>
    public string Graph { get; } = source;

    /// <summary>The node where the walk stopped, e.g. <c>Conv 'Convolution249'</c>; null for graph-level problems.</summary>
    public string? Node { get; } = node;
}

/// <summary>
/// Read-only navigation over an ONNX graph for importers that walk it from the input: who consumes a tensor, which
/// initializers a node reads, typed attribute access. Records which nodes and initializers the walk touched, so the
/// importer can insist that nothing in the graph was left unexplained.
/// </summary>
internal sealed class OnnxGraphView
{
    readonly GraphProto graph;
    readonly Dictionary<string, TensorProto> initializers;
    readonly Dictionary<string, List<NodeProto>> consumers = [];
    readonly HashSet<NodeProto> visited = [];
    readonly HashSet<string> usedInitializers = [];

    public OnnxGraphView(GraphProto graph, string source)
    {
        this.graph = graph;
        Source = source;
        initializers = graph.Initializer.ToDictionary(t => t.Name);
        foreach (var node in graph.Node)
        {
            foreach (var input in node.Input)
            {
                if (input.Length == 0) continue;   // an omitted optional input
                if (!consumers.TryGetValue(input, out var list)) consumers[input] = list = [];
                list.Add(node);
            }
        }
    }

    public string Source { get; }

    /// <summary>The one graph input that is not an initializer (older exporters list initializers as inputs too).</summary>
    public ValueInfoProto DataInput()
    {
        var inputs = graph.Input.Where(i => !initializers.ContainsKey(i.Name)).ToList();
        if (inputs.Count != 1)
            throw Fail(null, $"expected one data input, found {inputs.Count}: [{string.Join(", ", inputs.Select(i => i.Name))}]");
        return inputs[0];
    }

    public bool IsGraphOutput(string tensor) => graph.Output.Any(o => o.Name == tensor);

    public IReadOnlyList<NodeProto> Consumers(string tensor)
        => consumers.TryGetValue(tensor, out var list) ? list : [];

    /// <summary>The only node reading <paramref name="tensor"/>, which must be an <paramref name="opType"/>.</summary>
    public NodeProto SingleConsumer(string tensor, string opType, string role)
    {
        var next = Consumers(tensor);
        if (next.Count != 1 || next[0].OpType != opType)
        {
            string found = next.Count == 0 ? "nothing" : string.Join(", ", next.Select(Describe));
            string? producer = ProducerOf(tensor);
            throw Fail(producer, $"expected its output '{tensor}' to feed exactly one {opType} ({role}); it feeds {found}");
        }
        return Visit(next[0]);
    }

    public NodeProto Visit(NodeProto node)
    {
        if (!visited.Add(node)) throw Fail(Describe(node), "reached twice while walking the graph; expected a chain of residual blocks");
        return node;
    }

    /// <summary>Input <paramref name="index"/> of <paramref name="node"/>, which must be an initializer used nowhere else.</summary>
    public TensorProto Initializer(NodeProto node, int index, string role)
    {
        if (index >= node.Input.Count)
            throw Fail(Describe(node), $"expected input {index} ({role}); the node has {node.Input.Count} inputs");
        string name = node.Input[index];
        if (!initializers.TryGetValue(name, out var tensor))
            throw Fail(Describe(node), $"expected input {index} ({role}) to be an initializer; '{name}' is computed by the graph");
        if (!usedInitializers.Add(name))
            throw Fail(Describe(node), $"initializer '{name}' ({role}) is shared with another node; expected separate weights");
        return tensor;
    }

    public void EnsureEverythingUsed()
    {
        var unvisited = graph.Node.Where(n => !visited.Contains(n)).ToList();
        if (unvisited.Count > 0)
            throw Fail(null, $"{unvisited.Count} node(s) not part of the expected network: {string.Join(", ", unvisited.Take(5).Select(Describe))}");
        var unused = initializers.Keys.Where(k => !usedInitializers.Contains(k)).ToList();
        if (unused.Count > 0)
            throw Fail(null, $"{unused.Count} initializer(s) not used by the expected network: {string.Join(", ", unused.Take(5))}");
    }

    public static string Describe(NodeProto node)
        => $"{node.OpType} '{(node.Name.Length > 0 ? node.Name : node.Output.FirstOrDefault() ?? "?")}'";

    string? ProducerOf(string tensor)
    {
        var node = graph.Node.FirstOrDefault(n => n.Output.Contains(tensor));
        return node is null ? $"graph input '{tensor}'" : Describe(node);
    }

    public OnnxGraphMismatchException Fail(string? node, string message) => new(Source, node, message);

    public OnnxGraphMismatchException Fail(NodeProto node, string role, string expected, string found)
        => new(Source, Describe(node), $"{role}: expected {expected}, found {found}");

    // ---- attributes ----

    public static AttributeProto? Attribute(NodeProto node, string name) => node.Attribute.FirstOrDefault(a => a.Name == name);

    public static IReadOnlyList<long>? Ints(NodeProto node, string name) => Attribute(node, name)?.Ints.ToArray();

    public static long Int(NodeProto node, string name, long fallback) => Attribute(node, name)?.I ?? fallback;

    public static float Float(NodeProto node, string name, float fallback) => Attribute(node, name)?.F ?? fallback;

    public static string String(NodeProto node, string name, string fallback)
        => Attribute(node, name)?.S.ToStringUtf8() ?? fallback;

    public static string Format(IEnumerable<long>? values) => values is null ? "(absent)" : "[" + string.Join(", ", values) + "]";

    // ---- tensors ----

    /// <summary>A float initializer as a CPU tensor (copied; the proto can be released afterwards).</summary>
    public Tensor ToTensor(TensorProto proto, NodeProto node, string role)
    {
        if (proto.DataType != (int)TensorProto.Types.DataType.Float)
            throw Fail(node, role, "a float32 initializer", $"data type {(TensorProto.Types.DataType)proto.DataType} in '{proto.Name}'");
        if (proto.DataLocation == TensorProto.Types.DataLocation.External)
            throw Fail(node, role, "weights stored inside the .onnx file", $"external data for '{proto.Name}'");
        long[] dims = proto.Dims.ToArray();
        long count = dims.Aggregate(1L, (a, b) => a * b);
        float[] data;
        if (proto.RawData.Length > 0)
        {
            // raw_data is little-endian by the ONNX spec.
            if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("reading ONNX raw_data needs a little-endian machine");
            data = MemoryMarshal.Cast<byte, float>(proto.RawData.Span).ToArray();
        }
        else
        {
            data = proto.FloatData.ToArray();
        }
        if (data.LongLength != count)
            throw Fail(node, role, $"{count} values for shape {Format(dims)}", $"{data.LongLength} in '{proto.Name}'");
        return tensor(data, dims);
    }

    public static IReadOnlyList<long>? Shape(ValueInfoProto value)
        => value.Type?.TensorType?.Shape is { } shape
            ? shape.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue : -1).ToArray()
            : null;
}
