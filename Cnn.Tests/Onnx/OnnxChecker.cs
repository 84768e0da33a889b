using Onnx;

namespace Cnn.Tests.Onnx;

/// <summary>
/// The structural rules of the ONNX checker (onnx.checker.check_model) that a writer can break: names unique, every
/// node input defined before the node reads it (so the graph is topologically sorted), initializers typed and of the
/// size their shape says, inputs and outputs typed, an opset declared for the default domain.
/// </summary>
internal static class OnnxChecker
{
    /// <summary>Every rule <paramref name="model"/> breaks, one line each; empty when it passes.</summary>
    public static List<string> Violations(ModelProto model)
    {
        var problems = new List<string>();
        if (!model.OpsetImport.Any(o => o.Domain.Length == 0 && o.Version > 0)) problems.Add("no opset for the default domain");
        if (model.IrVersion < 3) problems.Add($"IR version {model.IrVersion}");
        var graph = model.Graph;

        var defined = new HashSet<string>(StringComparer.Ordinal);
        void Define(string name, string what)
        {
            if (name.Length == 0) problems.Add($"{what} without a name");
            else if (!defined.Add(name)) problems.Add($"{what} '{name}' reuses a name already defined");
        }

        foreach (var input in graph.Input)
        {
            Define(input.Name, "graph input");
            if (input.Type?.TensorType is not { ElemType: > 0 }) problems.Add($"graph input '{input.Name}' has no element type");
        }
        foreach (var initializer in graph.Initializer)
        {
            Define(initializer.Name, "initializer");
            if (initializer.DataType != (int)TensorProto.Types.DataType.Float)
                problems.Add($"initializer '{initializer.Name}' has data type {initializer.DataType}, not float");
            long count = initializer.Dims.Aggregate(1L, (a, b) => a * b);
            long stored = initializer.RawData.Length > 0 ? initializer.RawData.Length / sizeof(float) : initializer.FloatData.Count;
            if (count != stored) problems.Add($"initializer '{initializer.Name}' has shape [{string.Join(", ", initializer.Dims)}] but {stored} values");
        }
        var nodeNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in graph.Node)
        {
            if (node.Name.Length > 0 && !nodeNames.Add(node.Name)) problems.Add($"node name '{node.Name}' is used twice");
            foreach (string input in node.Input)
            {
                if (input.Length > 0 && !defined.Contains(input))
                    problems.Add($"{node.OpType} '{node.Name}' reads '{input}', which is not defined before it");
            }
            foreach (string output in node.Output) Define(output, $"output of {node.OpType} '{node.Name}'");
        }
        foreach (var output in graph.Output)
        {
            if (!defined.Contains(output.Name)) problems.Add($"graph output '{output.Name}' is not computed");
            if (output.Type?.TensorType is not { ElemType: > 0 }) problems.Add($"graph output '{output.Name}' has no element type");
        }
        return problems;
    }
}
