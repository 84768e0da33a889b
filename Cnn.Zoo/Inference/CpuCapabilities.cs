using System.Runtime.Intrinsics.X86;

namespace Cnn.Zoo.Inference;

/// <summary>
/// What this CPU computes natively that matters for choosing an inference precision. Detected once from CPUID; tests
/// and callers that know better pass their own instance to <see cref="InferenceOptions.Cpu"/>.
/// </summary>
/// <param name="Avx512Bf16">AVX512_BF16: bfloat16 dot products into float32 (<c>vdpbf16ps</c>), on Intel Cooper Lake and
/// Sapphire Rapids on, and AMD Zen 4 on. oneDNN's bfloat16 convolutions use it.</param>
/// <param name="AmxBf16">AMX-BF16: bfloat16 tile matrix multiplies, on Intel Sapphire Rapids on; oneDNN's fastest path.</param>
/// <param name="CacheTopology">Whether CPUID describes the caches where oneDNN looks (leaf 0x8000001D on AMD, leaf 4
/// elsewhere). oneDNN sizes its
/// kernels' blocks from them; some virtual machines report none, and there <see cref="OneDnnGuard"/> holds oneDNN to its AVX kernels.</param>
public sealed record CpuCapabilities(bool Avx512Bf16, bool AmxBf16, bool CacheTopology = true)
{
    /// <summary>A CPU with neither.</summary>
    public static CpuCapabilities None { get; } = new(false, false);

    /// <summary>This machine's CPU, detected on first use.</summary>
    public static CpuCapabilities Current => current.Value;

    static readonly Lazy<CpuCapabilities> current = new(Detect);

    /// <summary>Whether bfloat16 arithmetic runs in hardware here rather than being emulated with float32 instructions.</summary>
    public bool NativeBFloat16 => Avx512Bf16 || AmxBf16;

    /// <summary>Whether oneDNN's bf16 kernels can be trusted here: native bf16, and caches it can size its blocks by.</summary>
    public bool UsableBFloat16 => NativeBFloat16 && CacheTopology;

    /// <summary>
    /// Reads CPUID: leaf 7 sub-leaf 1 EAX bit 5 is AVX512_BF16; leaf 7 sub-leaf 0 EDX bits 22 and 24 are AMX-BF16 and
    /// AMX-TILE. <see cref="Avx512F.IsSupported"/> comes first because it also tells whether the operating system saves
    /// the 512-bit registers, without which neither instruction set can be used.
    /// </summary>
    public static CpuCapabilities Detect()
    {
        if (!X86Base.IsSupported) return None;
        var (maxLeaf, _, _, _) = X86Base.CpuId(0, 0);
        bool caches = DescribesCaches(maxLeaf);
        if (!Avx512F.IsSupported || maxLeaf < 7) return None with { CacheTopology = caches };
        var (maxSubLeaf, _, _, features) = X86Base.CpuId(7, 0);
        bool amx = (features & (1 << 22)) != 0 && (features & (1 << 24)) != 0;
        bool avx512Bf16 = maxSubLeaf >= 1 && (X86Base.CpuId(7, 1).Eax & (1 << 5)) != 0;
        return new CpuCapabilities(avx512Bf16, amx, caches);
    }

    /// <summary>
    /// Whether the cache-parameter leaf oneDNN's Xbyak reads on this vendor's CPUs has a cache type in its first
    /// sub-leaf (bits 4:0 of EAX; 0 means no cache): 0x8000001D on AMD, which Xbyak (oneDNN 3.7.1, in libtorch 2.10)
    /// reads without checking, and leaf 4 elsewhere.
    /// </summary>
    static bool DescribesCaches(int maxLeaf)
    {
        const int amdCacheLeaf = unchecked((int)0x8000001D);
        var (_, ebx, ecx, edx) = X86Base.CpuId(0, 0);
        bool isAmd = (ebx, edx, ecx) == (0x68747541, 0x69746E65, 0x444D4163);   // "Auth" "enti" "cAMD"
        if (isAmd)
        {
            int maxExtended = X86Base.CpuId(unchecked((int)0x80000000), 0).Eax;
            return (uint)maxExtended >= 0x8000001D && (X86Base.CpuId(amdCacheLeaf, 0).Eax & 0x1F) != 0;
        }
        return maxLeaf >= 4 && (X86Base.CpuId(4, 0).Eax & 0x1F) != 0;
    }

    /// <summary>E.g. "AVX512_BF16 yes, AMX-BF16 no", and "no cache topology in CPUID" where that is missing.</summary>
    public override string ToString()
        => $"AVX512_BF16 {(Avx512Bf16 ? "yes" : "no")}, AMX-BF16 {(AmxBf16 ? "yes" : "no")}" + (CacheTopology ? "" : ", no cache topology in CPUID");
}
