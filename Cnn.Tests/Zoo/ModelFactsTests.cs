using Cnn.Zoo;

namespace Cnn.Tests.Zoo;

/// <summary>The facts table that lets <c>cnnzoo models</c> print at once agrees with a real summary pass.</summary>
[TestClass]
public sealed class ModelFactsTests
{
    [TestMethod]
    [TestCategory("Slow")]
    public void EveryTabulatedFactEqualsTheMeasuredOne()
    {
        var wrong = new List<string>();
        foreach (var entry in ModelRegistry.All)
        {
            var measured = ModelFacts.Measure(entry);
            if (!ModelFacts.Tabulated.TryGetValue(entry.Name, out var tabulated) || tabulated != measured)
                wrong.Add($"[\"{entry.Name}\"] = new({measured.Parameters}, {measured.Macs}, \"{measured.Input}\", {measured.WeightLayers}),");
        }
        Assert.AreEqual(0, wrong.Count, "ModelFacts table out of date or incomplete; measured:\n" + string.Join('\n', wrong));
        Assert.AreEqual(ModelRegistry.All.Count, ModelFacts.Tabulated.Count, "a tabulated model that is not registered");
    }
}
