using Cnn.Zoo.Inference;
using Cnn.Zoo.Runtime;

namespace Cnn.Tests.Support;

/// <summary>Process-wide set-up the product also does, for tests that run torchvision's models before any zoo model.</summary>
[TestClass]
public static class TestSetup
{
    [AssemblyInitialize]
    public static void Initialize(TestContext context)
    {
        NativeEnvironment.EnsurePassiveOpenMpWaits();
        string? reason = OneDnnGuard.Ensure();
        if (reason is not null) context.WriteLine($"oneDNN guard: {reason}");
    }

    static NativeSafety.Scope? hold;

    /// <summary>
    /// Tests call libtorch directly, as the CLI's verbs do, so each runs inside a hold as every verb does: the suite
    /// then passes under continuous garbage collection (Cnn.GcTorture). Finalizers run between tests and at the safe
    /// points inside them. MSTest may run a test on another thread than its initialiser, and runs one at a time.
    /// </summary>
    [GlobalTestInitialize]
    public static void HoldFinalizers(TestContext context) => hold = NativeSafety.HoldAcrossThreads();

    [GlobalTestCleanup]
    public static void ReleaseFinalizers(TestContext context)
    {
        hold?.Dispose();
        hold = null;
    }
}
