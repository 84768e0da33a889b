using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Cnn.Zoo.Runtime;

/// <summary>
/// Makes libtorch calls safe under any garbage-collection timing, by holding the .NET finalizer thread between safe
/// points.
/// <para>
/// Why: TorchSharp 0.107 frees a native object (a <c>Scalar</c>, a <c>Tensor</c>) only in its finalizer or on
/// <c>Dispose</c>, and where it makes one implicitly (<c>x.add(y)</c> is <c>add(y, 1)</c>; <c>x * 0.5</c>; every
/// optimizer step) nothing keeps the .NET object alive while libtorch reads it. A collection started by any thread
/// during that call lets the finalizer thread free the object under libtorch: "Expected false to be true", "Unknown
/// scalar type", or a crash. Its fixes (TorchSharp pull requests 1434, 1496) are in no release.
/// </para>
/// <para>
/// How: while a <see cref="Hold"/> is open, the finalizer thread is parked inside the finalizer of a private object,
/// so garbage may still be found but nothing is freed. At a <see cref="SafePoint()"/> (between two training steps or
/// two batches, where the holding thread is in no libtorch call) the queued finalizers are let run and the thread is
/// parked again. Safe points are throttled to one per <see cref="Interval"/>, which bounds the cost (about 1 ms
/// each, a generation-0 collection) to about 1% of the time.
/// </para>
/// <para>
/// Use, around a loop of your own that runs libtorch: <c>using var hold = NativeSafety.Hold();</c>. Every zoo
/// model's <c>forward</c> is a safe point, so a training loop needs nothing else. The project's own entry points hold
/// for their duration (every <c>cnnzoo</c> verb, <c>Trainer.Fit</c> and <c>Evaluate</c>, <c>InferenceModel.Optimize</c>,
/// <c>GradCam.Compute</c>, <c>OnnxExport</c>). Holds nest and may be taken on
/// several threads; a safe point only releases the finalizer when every open hold belongs to the calling thread
/// (otherwise another thread might be inside libtorch), so with holds on several threads finalizers wait until the
/// others close theirs (and an async loop whose steps resume on other threads gets its finalizers run when the hold
/// closes). Inside a hold, never call <see cref="GC.WaitForPendingFinalizers"/>: it would wait forever.
/// </para>
/// <para>
/// <c>CNNZOO_NATIVE_SAFETY=off</c> turns the mechanism off, for measuring its cost and showing the race; nothing else.
/// </para>
/// </summary>
public static class NativeSafety
{
    /// <summary>The shortest time between two safe points that release the finalizer thread.</summary>
    public static TimeSpan Interval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>False only where <c>CNNZOO_NATIVE_SAFETY=off</c>: holds and safe points then do nothing.</summary>
    public static bool Enabled { get; } = Environment.GetEnvironmentVariable("CNNZOO_NATIVE_SAFETY") != "off";

    static readonly object sync = new();
    static readonly Dictionary<int, int> holdsByThread = [];
    static readonly Stopwatch sinceRelease = Stopwatch.StartNew();
    static int holds;
    static long issued, parked, released;
    static long safePointsTaken;

    /// <summary>True while at least one hold is open (anywhere in the process).</summary>
    public static bool IsHeld
    {
        get { lock (sync) return holds > 0; }
    }

    /// <summary>How many safe points released the finalizer thread so far (for tests and the benchmark).</summary>
    public static long SafePointsTaken => Interlocked.Read(ref safePointsTaken);

    /// <summary>
    /// Parks the finalizer thread until the returned scope is disposed (and between safe points). Returns once the
    /// thread is parked, so the first libtorch call after it is already safe.
    /// </summary>
    public static Scope Hold() => Open(Environment.CurrentManagedThreadId);

    /// <summary>
    /// The same, for a host that hands libtorch work to one thread at a time but not always the same one (a test
    /// framework, a job queue): this hold does not stop a safe point on another thread from releasing the finalizer.
    /// Only where two threads never run libtorch at once.
    /// </summary>
    public static Scope HoldAcrossThreads() => Open(AnyThread);

    const int AnyThread = 0;   // managed thread ids start at 1

    static Scope Open(int thread)
    {
        if (!Enabled) return new Scope(Disabled);
        lock (sync)
        {
            holds++;
            holdsByThread[thread] = holdsByThread.GetValueOrDefault(thread) + 1;
            if (holds == 1) ParkFinalizerThread();
            else WaitUntilParked(issued);
        }
        return new Scope(thread);
    }

    const int Disabled = -1;

    /// <summary>
    /// A point where the calling thread is in no libtorch call: lets the finalizers queued since the last safe point
    /// run, then parks the finalizer thread again. Does nothing outside a hold, within <see cref="Interval"/> of the
    /// last release, or while another thread holds too.
    /// </summary>
    public static void SafePoint() => SafePoint(force: false);

    /// <param name="force">Release even within <see cref="Interval"/> of the last release (tests, end of an epoch).</param>
    public static void SafePoint(bool force)
    {
        if (Volatile.Read(ref holds) == 0) return;
        if (!force && sinceRelease.Elapsed < Interval) return;
        int thread = Environment.CurrentManagedThreadId;
        lock (sync)
        {
            // Every hold but those opened across threads must be this thread's: another might be inside libtorch.
            if (holds == 0 || holdsByThread.GetValueOrDefault(thread) + holdsByThread.GetValueOrDefault(AnyThread) != holds) return;
            ReleaseFinalizerThread();
            ParkFinalizerThread();
            safePointsTaken++;
        }
    }

    /// <summary>An open hold; disposing the last one lets the finalizer thread run freely again.</summary>
    public sealed class Scope : IDisposable
    {
        readonly int thread;
        int disposed;

        internal Scope(int thread) => this.thread = thread;

        public void Dispose()
        {
            if (thread == Disabled || Interlocked.Exchange(ref disposed, 1) == 1) return;
            lock (sync)
            {
                holds--;
                if (--holdsByThread[thread] == 0) holdsByThread.Remove(thread);
                if (holds == 0) ReleaseFinalizerThread();
            }
        }
    }

    // Lock held. Makes an unreachable Parker, collects generation 0 so the GC queues it for finalization, and waits
    // until the finalizer thread has reached it. Nothing queued by a later collection runs before it is released;
    // something queued earlier may (the queue is not first-in first-out) and is then freed at a later safe point:
    // it was unreachable before this safe point, so no libtorch call in progress can be reading it.
    static void ParkFinalizerThread()
    {
        long id = ++issued;
        MakeParker(id);
        GC.Collect(0, GCCollectionMode.Forced, blocking: true);
        WaitUntilParked(id);
    }

    static void WaitUntilParked(long id)
    {
        while (parked < id)
        {
            // A parker is found by the first collection after it was made; a full one is a belt for the braces.
            if (!Monitor.Wait(sync, TimeSpan.FromSeconds(1)) && parked < id) GC.Collect();
        }
    }

    static void ReleaseFinalizerThread()
    {
        released = parked;
        sinceRelease.Restart();
        Monitor.PulseAll(sync);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void MakeParker(long id) => _ = new Parker(id);

    /// <summary>Runs on the finalizer thread; holds it until the safe point or hold that follows releases it.</summary>
    static void Park(long id)
    {
        lock (sync)
        {
            parked = id;
            Monitor.PulseAll(sync);
            while (released < id)
            {
                try { Monitor.Wait(sync); }
                catch (ThreadInterruptedException) { }
            }
        }
    }

    // No fields but a number: anything it referenced would be queued with it and might be finalized first.
    sealed class Parker(long id)
    {
        ~Parker() => Park(id);
    }
}
