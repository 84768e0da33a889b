namespace Cnn.Zoo.Analysis;

/// <summary>
/// One image's Grad-CAM: the class it explains, the model's probabilities for every class, and the map at the target
/// layer's resolution (7 x 7 for a ResNet at 224 x 224), before any upsampling or normalisation.
/// </summary>
/// <param name="Layer">The target layer's module name (<c>layer4</c>, <c>features.28</c>), or null for the output of
/// the convolutional body (<see cref="Models.ZooModel.ForwardFeatures"/>).</param>
/// <param name="Class">The explained class: the top-1 prediction unless one was asked for.</param>
/// <param name="Probabilities">Softmax of the logits, one per class.</param>
/// <param name="Values">ReLU(sum over channels k of w_k A_k), rows first: [y, x].</param>
public sealed record GradCamMap(string? Layer, int Class, float[] Probabilities, float[,] Values)
{
    /// <summary>The probability of <see cref="Class"/>.</summary>
    public float Probability => Probabilities[Class];

    /// <summary>The top-1 class, which differs from <see cref="Class"/> when another class was asked for.</summary>
    public int Predicted => Top(1)[0].Class;

    public int Height => Values.GetLength(0);
    public int Width => Values.GetLength(1);

    /// <summary>The target layer as people read it: its module name, or the convolutional body.</summary>
    public string LayerDescription => Layer ?? "convolutional body";

    /// <summary>The <paramref name="k"/> most probable classes, most probable first (ties: lower index first).</summary>
    public IReadOnlyList<(int Class, float Probability)> Top(int k) =>
        Probabilities.Select((p, c) => (Class: c, Probability: p))
            .OrderByDescending(e => e.Probability).ThenBy(e => e.Class)
            .Take(k).ToList();

    /// <summary>The map's largest value and where it is.</summary>
    public (int Y, int X, float Value) Peak()
    {
        (int Y, int X, float Value) best = (0, 0, float.NegativeInfinity);
        for (int y = 0; y < Height; y++)
        for (int x = 0; x < Width; x++)
        {
            if (Values[y, x] > best.Value) best = (y, x, Values[y, x]);
        }
        return best;
    }
}
