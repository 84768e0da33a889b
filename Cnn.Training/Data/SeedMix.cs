namespace Cnn.Training.Data;

/// <summary>
/// Derives independent seeds from (seed, epoch, index) tuples. <see cref="HashCode.Combine{T1, T2}"/> cannot be used:
/// it is randomised per process, so runs would not repeat. This is SplitMix64's finaliser (Steele, Lea and Flood,
/// "Fast splittable pseudorandom number generators", OOPSLA 2014) folded over the parts: nearby inputs such as
/// epochs 3 and 4 give unrelated seeds, which <see cref="Random(int)"/> needs because its legacy seeding is weak.
/// </summary>
public static class SeedMix
{
    /// <summary>A non-negative seed for <see cref="Random(int)"/> that depends on every part and on their order.</summary>
    public static int Combine(params ReadOnlySpan<int> parts)
    {
        ulong h = 0x9E3779B97F4A7C15UL;
        foreach (int part in parts)
            h = Mix(h ^ (uint)part) + 0x9E3779B97F4A7C15UL;
        return (int)(Mix(h) >> 33); // 31 bits: never negative, so Random's abs() folding does not merge seeds
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
