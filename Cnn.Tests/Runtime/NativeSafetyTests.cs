using Cnn.Zoo;
using Cnn.Zoo.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Tests.Runtime;

/// <summary>
/// <see cref="NativeSafety"/>: while held, nothing is finalized except at a safe point taken by the thread that holds;
/// and a training loop under continuous garbage collection, through the documented one line, runs to the end.
/// </summary>
[TestClass]
public sealed class NativeSafetyTests
{
    /// <summary>Counts its finalizations, as a TorchSharp Scalar's finalizer would free its native object.</summary>
    sealed class Witness
    {
        public static int Finalized;
        ~Witness() => Interlocked.Increment(ref Finalized);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    static void DropWitnesses(int count)
    {
        for (int i = 0; i < count; i++) _ = new Witness();
    }

    /// <summary>Collects, then gives a free finalizer thread ample time to run what the collection found.</summary>
    static int FinalizedAfterCollecting()
    {
        GC.Collect();
        Thread.Sleep(200);
        return Volatile.Read(ref Witness.Finalized);
    }

    /// <summary>
    /// Takes safe points until <paramref name="expected"/> finalizers have run (at most 20). The runtime's
    /// finalization queue is not first-in first-out, so a safe point's new parker may be reached before some of the
    /// finalizers queued ahead of it; they then run at a later safe point, which is as safe.
    /// </summary>
    static int FinalizedAtSafePoints(int expected)
    {
        for (int i = 0; i < 20 && Volatile.Read(ref Witness.Finalized) < expected; i++) NativeSafety.SafePoint(force: true);
        return Volatile.Read(ref Witness.Finalized);
    }

    [TestMethod]
    public void NothingIsFinalizedWhileHeldAndQueuedFinalizersRunAtASafePoint()
    {
        Assert.IsTrue(NativeSafety.Enabled, "CNNZOO_NATIVE_SAFETY=off is set for this process");
        using (NativeSafety.Hold())
        {
            int before = FinalizedAfterCollecting();
            DropWitnesses(100);
            Assert.AreEqual(before, FinalizedAfterCollecting(), "a finalizer ran while the finalizer thread was held");

            Assert.AreEqual(before + 100, FinalizedAtSafePoints(before + 100), "the finalizers queued while held ran at safe points");

            DropWitnesses(10);
            Assert.AreEqual(before + 100, FinalizedAfterCollecting(), "the thread is held again after the safe point");
            Assert.AreEqual(before + 110, FinalizedAtSafePoints(before + 110));
        }
    }

    [TestMethod]
    public void ASafePointOnAThreadThatDoesNotHoldEveryHoldReleasesNothing()
    {
        using (NativeSafety.Hold())
        {
            NativeSafety.SafePoint(force: true);
            int before = Volatile.Read(ref Witness.Finalized);
            DropWitnesses(20);
            GC.Collect();
            // Another thread, perhaps between two of its own steps, cannot know that this one is in no libtorch call.
            var other = new Thread(() => NativeSafety.SafePoint(force: true));
            other.Start();
            other.Join();
            Assert.AreEqual(before, FinalizedAfterCollecting());

            // Nor can one that holds as well: this thread's hold is still open.
            var holder = new Thread(() =>
            {
                using var hold = NativeSafety.Hold();
                NativeSafety.SafePoint(force: true);
            });
            holder.Start();
            holder.Join();
            Assert.AreEqual(before, FinalizedAfterCollecting());

            Assert.AreEqual(before + 20, FinalizedAtSafePoints(before + 20));
        }
    }

    [TestMethod]
    public void AHoldAcrossThreadsLetsTheThreadAtWorkRelease()
    {
        using (NativeSafety.HoldAcrossThreads())
        {
            int before = Volatile.Read(ref Witness.Finalized);
            DropWitnesses(30);
            GC.Collect();
            int finalized = 0;
            var worker = new Thread(() => finalized = FinalizedAtSafePoints(before + 30));
            worker.Start();
            worker.Join();
            Assert.AreEqual(before + 30, finalized);
        }
    }

    [TestMethod]
    public void ASafePointWithinTheIntervalIsSkipped()
    {
        using (NativeSafety.Hold())
        {
            NativeSafety.SafePoint(force: true);
            long taken = NativeSafety.SafePointsTaken;
            var interval = NativeSafety.Interval;
            NativeSafety.Interval = TimeSpan.FromHours(1);
            try
            {
                for (int i = 0; i < 50; i++) NativeSafety.SafePoint();
                Assert.AreEqual(taken, NativeSafety.SafePointsTaken);
                NativeSafety.Interval = TimeSpan.Zero;
                NativeSafety.SafePoint();
                Assert.AreEqual(taken + 1, NativeSafety.SafePointsTaken);
            }
            finally
            {
                NativeSafety.Interval = interval;
            }
        }
    }

    /// <summary>
    /// The library user's loop: TorchSharp's own optimizer (whose every step makes unrooted Scalars), residual
    /// additions and scalar arithmetic, while another thread collects garbage without pause. Without the hold this
    /// fails within seconds ("Expected false to be true", "Unknown scalar type") or crashes the process.
    /// </summary>
    [TestMethod]
    [TestCategory("Slow")]   // training loops under continuous garbage collection
    [DataRow("adam")]
    [DataRow("sgd")]
    public void ATrainingLoopSurvivesContinuousGarbageCollection(string optimizerName)
    {
        using var stop = new CancellationTokenSource();
        var collector = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                GC.Collect();
                Thread.Sleep(1);   // a collection every millisecond or so; the loop still makes progress
            }
        }) { IsBackground = true };
        collector.Start();
        try
        {
            using var hold = NativeSafety.Hold();   // the one documented line
            using var model = ModelRegistry.Create("resnet18", 4, ModelOptions.Parse(["cifar_stem=true", "layers=1,1,1,1"]));
            using var optimizer = optimizerName == "adam"
                ? (optim.Optimizer)optim.Adam(model.parameters(), 1e-3)
                : optim.SGD(model.parameters(), 0.05, momentum: 0.9, nesterov: true, weight_decay: 1e-4);
            var generator = new Generator(3);
            using var x = randn([8, 3, 16, 16], generator: generator);
            using var y = randint(0, 4, [8], generator: generator);
            long safePoints = NativeSafety.SafePointsTaken;
            double first = double.NaN, last = double.NaN;
            model.train();
            for (int step = 0; step < 30; step++)   // without the hold, such loops failed within seconds (#19)
            {
                using var scope = NewDisposeScope();
                optimizer.zero_grad();
                var loss = nn.functional.cross_entropy(model.call(x * 1.0 + 0.0), y) * 0.5;
                loss.backward();
                optimizer.step();
                last = loss.item<float>();
                if (step == 0) first = last;
            }
            Assert.IsTrue(double.IsFinite(last) && last < first, $"the loss went from {first} to {last}");
            Assert.IsTrue(NativeSafety.SafePointsTaken > safePoints, "the model's forward took safe points: finalizers ran during the loop");
        }
        finally
        {
            stop.Cancel();
            collector.Join();
        }
    }
}
