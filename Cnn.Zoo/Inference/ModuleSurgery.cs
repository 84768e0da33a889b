using System.Reflection;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cnn.Zoo.Inference;

/// <summary>
/// Swaps children of a module for other modules, keeping their names and order, with TorchSharp's public API only.
/// A <see cref="Sequential"/> cannot be edited in place (it keeps its own private list), so it comes back as a new
/// Sequential; any other module is edited in place: the field that held the old child gets the new one (the forward
/// pass reads fields, not the registry) and the children are re-registered in their original order.
/// </summary>
internal static class ModuleSurgery
{
    /// <summary>
    /// The module that should stand where <paramref name="module"/> stood once its children are
    /// <paramref name="children"/>: the same object, edited, or a new Sequential.
    /// </summary>
    public static nn.Module WithChildren(nn.Module module, IReadOnlyList<(string Name, nn.Module Module)> children)
    {
        var current = module.named_children().ToList();
        if (current.Count != children.Count || current.Where((c, i) => c.name != children[i].Name).Any())
            throw new ArgumentException($"{module.GetName()}: children must keep their names and order");
        if (current.Select((c, i) => ReferenceEquals(c.module, children[i].Module)).All(same => same)) return module;

        if (module is Sequential)
        {
            var rebuilt = nn.Sequential(children.Select(c => (c.Name, AsLayer(c.Module, module))));
            rebuilt.train(module.training);
            return rebuilt;
        }

        for (int i = 0; i < children.Count; i++)
        {
            if (!ReferenceEquals(current[i].module, children[i].Module))
                SetField(module, current[i].name, current[i].module, children[i].Module);
        }
        foreach (var (name, _) in current) module.register_module(name, null!);
        foreach (var (name, child) in children) module.register_module(name, child);
        return module;
    }

    private static nn.Module<Tensor, Tensor> AsLayer(nn.Module child, nn.Module parent)
        => child as nn.Module<Tensor, Tensor>
           ?? throw new InvalidOperationException($"{parent.GetName()}: child {child.GetName()} is not a tensor-to-tensor layer");

    private static void SetField(nn.Module owner, string childName, nn.Module oldChild, nn.Module newChild)
    {
        const BindingFlags instance = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
        for (var type = owner.GetType(); type is not null && type != typeof(nn.Module); type = type.BaseType)
        {
            foreach (var field in type.GetFields(instance))
            {
                if (!ReferenceEquals(field.GetValue(owner), oldChild)) continue;
                if (!field.FieldType.IsInstanceOfType(newChild))
                    throw new InvalidOperationException(
                        $"{owner.GetType().Name}.{field.Name} (child '{childName}') is typed {field.FieldType.Name}, which cannot " +
                        $"hold a {newChild.GetType().Name}; declare it as nn.Module<Tensor, Tensor> so it can be replaced");
                field.SetValue(owner, newChild);
                return;
            }
        }
        throw new InvalidOperationException(
            $"{owner.GetType().Name}: no field holds child '{childName}', so its forward pass could not see a replacement");
    }
}
