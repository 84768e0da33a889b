using Cnn.Zoo.Inference;

namespace Cnn.Tests.Support;

/// <summary>Process-wide set-up the product also does, for tests that run torchvision's models before any zoo model.</summary>
[TestClass]
public static class TestSetup
{
    [AssemblyInitialize]
    public static void Initialize(TestContext context)
    {
        string? reason = OneDnnGuard.Ensure();
        if (reason is not null) context.WriteLine($"oneDNN off: {reason}");
    }
}
