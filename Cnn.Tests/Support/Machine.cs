namespace Cnn.Tests.Support;

/// <summary>
/// The one way a test skips: because this machine (its CPU, OS or environment) lacks what the test checks. The reason
/// starts with <see cref="Prefix"/>; .ci/run lists every skip with its reason and fails on a skip without it, so a
/// suite that skips for any other reason cannot look green.
/// </summary>
internal static class Machine
{
    public const string Prefix = "machine: ";

    /// <summary>Ends the test as skipped (inconclusive) unless <paramref name="condition"/> holds.</summary>
    public static void Require(bool condition, string why)
    {
        if (!condition) Assert.Inconclusive(Prefix + why);
    }
}
