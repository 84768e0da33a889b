namespace Cnn.Tests.Support;

/// <summary>
/// Seeded damage to a file's bytes and a run of a reader over every damaged copy. The documented outcomes of a reader
/// are: it loads, or it throws one of the project's documented exceptions (<see cref="InvalidDataException"/>, or
/// <c>WeightLoadException</c> where weights are loaded into a model) whose message names the file. Anything else (another
/// exception type, a message without the path, a run longer than the per-case limit) fails the test with the case that
/// caused it, so it can be replayed. A native crash would take the test host down, which fails the run too.
/// </summary>
internal static class Corruption
{
    /// <summary>
    /// <paramref name="truncations"/> prefixes and <paramref name="flips"/> copies with one byte XORed by a non-zero value.
    /// Half of the positions fall in the first 512 bytes, where headers and structure live, half anywhere.
    /// </summary>
    public static IEnumerable<(string Case, byte[] Bytes)> Variants(byte[] original, int seed, int truncations = 60, int flips = 60)
    {
        var rng = new Random(seed);
        int Position(int limit) => rng.Next(2) == 0 ? rng.Next(Math.Min(limit, 512)) : rng.Next(limit);
        for (int i = 0; i < truncations; i++)
        {
            int length = Position(original.Length);
            yield return ($"truncated to {length} of {original.Length} bytes", original[..length]);
        }
        for (int i = 0; i < flips; i++)
        {
            int at = Position(original.Length);
            byte mask = (byte)rng.Next(1, 256);
            var copy = (byte[])original.Clone();
            copy[at] ^= mask;
            yield return ($"byte {at} of {original.Length} XOR 0x{mask:X2}", copy);
        }
    }

    /// <summary>The counts of a run, printed in the test output.</summary>
    public sealed record Outcome(string Reader, int Loaded, int Rejected)
    {
        public override string ToString() => $"{Reader}: {Loaded + Rejected} damaged copies, {Loaded} loaded, {Rejected} rejected with a documented exception";
    }

    /// <summary>
    /// Writes each variant to <paramref name="path"/> (restoring <paramref name="original"/> afterwards) and runs
    /// <paramref name="read"/>, which must load everything the reader offers. The per-case limit only tells a hang from
    /// a slow read: a case takes well under a second, but a test host under the GC torture hook (tools/gc-torture) on a
    /// busy 2-core machine has taken over 10 s for one, so the limit is generous.
    /// </summary>
    public static Outcome Run(string reader, string path, byte[] original, Action read, Func<Exception, bool> documented,
                              int seed, int truncations = 60, int flips = 60, double secondsPerCase = 120)
    {
        int loaded = 0, rejected = 0;
        try
        {
            foreach (var (name, bytes) in Variants(original, seed, truncations, flips))
            {
                File.WriteAllBytes(path, bytes);
                var attempt = Task.Run(read);
                if (!((IAsyncResult)attempt).AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(secondsPerCase)))
                    Assert.Fail($"{reader}, {name}: no result after {secondsPerCase} s (a hang?)");
                if (attempt.IsCompletedSuccessfully)
                {
                    loaded++;
                    continue;
                }
                var error = attempt.Exception!.InnerException!;
                if (!documented(error))
                    Assert.Fail($"{reader}, {name}: undocumented {error.GetType().Name}: {error.Message}{Environment.NewLine}{error}");
                if (!error.Message.Contains(path, StringComparison.Ordinal))
                    Assert.Fail($"{reader}, {name}: the message does not name {path}: {error.Message}");
                rejected++;
            }
        }
        finally
        {
            File.WriteAllBytes(path, original);
        }
        var outcome = new Outcome(reader, loaded, rejected);
        Console.WriteLine(outcome);
        return outcome;
    }
}
