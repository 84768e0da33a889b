using Cnn.Zoo;
using Cnn.Zoo.Analysis;
foreach (var e in ModelRegistry.All)
{
    var sw = System.Diagnostics.Stopwatch.StartNew();
    using var m = ModelRegistry.Create(e.Name);
    var s = ModelSummary.Of(m, m.Input.DefaultShape);
    Console.WriteLine($"{e.Name,-20} {s.TotalParameters,14:N0} {s.TotalMacs/1e9,8:F3}G layers={s.WeightLayerCount} keys={m.state_dict().Count} {sw.ElapsedMilliseconds}ms");
}
