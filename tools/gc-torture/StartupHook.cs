// The runtime looks for exactly this: a type named StartupHook, in no namespace, with a static Initialize().
// Why it exists: TorchSharp frees native objects in finalizers, and an object nothing keeps alive during a libtorch
// call is freed under libtorch if a collection lands at that moment. Collecting continuously makes such a race show
// up in seconds instead of once in hours; a process that is correct passes with this hook loaded (the tests in
// Cnn.Tests/Runtime run every verb this way). It changes nothing else in the process.
using System.Globalization;

internal static class StartupHook
{
    /// <summary>Pause between two collections, in SpinWait iterations (CNNZOO_GC_TORTURE_SPIN); smaller is harsher.</summary>
    const int DefaultSpin = 2000;

    public static void Initialize()
    {
        int spin = int.TryParse(Environment.GetEnvironmentVariable("CNNZOO_GC_TORTURE_SPIN"), NumberStyles.Integer,
                                CultureInfo.InvariantCulture, out int n) && n >= 0 ? n : DefaultSpin;
        var thread = new Thread(() =>
        {
            while (true)
            {
                GC.Collect();
                Thread.SpinWait(spin);
            }
        }) { IsBackground = true, Name = "gc-torture" };
        thread.Start();
        Console.Error.WriteLine($"gc-torture: collecting garbage continuously (CNNZOO_GC_TORTURE_SPIN={spin})");
    }
}
