using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Training.Data;

/// <summary>
/// Feeds a training loop with batches, decoding and augmenting on worker threads while the model trains (the role of
/// torch.utils.data.DataLoader with <c>num_workers</c> and <c>prefetch_factor</c>). Every random choice is a pure
/// function of (seed, epoch, sample): the order comes from <c>Random(SeedMix.Combine(seed, epoch))</c> and each
/// sample's augmentation from <c>Random(SeedMix.Combine(seed, epoch, index))</c>, and batch b always holds positions
/// [b * batchSize, (b + 1) * batchSize) of that order. So batches are identical for any worker count or timing.
/// </summary>
public sealed class DataLoader
{
    public DataLoader(IImageDataset dataset, ITransform transform, int batchSize, bool shuffle, int seed,
        int workers = 2, int prefetch = 4, bool dropLast = false)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(transform);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(workers); // 0: decode on the calling thread, for debugging
        ArgumentOutOfRangeException.ThrowIfLessThan(prefetch, 1);
        Dataset = dataset;
        Transform = transform;
        BatchSize = batchSize;
        Shuffle = shuffle;
        Seed = seed;
        Workers = workers;
        Prefetch = prefetch;
        DropLast = dropLast;
    }

    public IImageDataset Dataset { get; }
    public ITransform Transform { get; }
    public int BatchSize { get; }
    public bool Shuffle { get; }
    public int Seed { get; }
    public int Workers { get; }

    /// <summary>Batches decoded ahead of the consumer at most (ready or in progress), bounding memory.</summary>
    public int Prefetch { get; }

    public bool DropLast { get; }

    /// <summary>
    /// Batches an epoch yields, counting a final partial batch unless <see cref="DropLast"/>. With
    /// <see cref="BadDataPolicy.Skip"/> an epoch can yield fewer, if every sample of a batch was skipped.
    /// </summary>
    public int BatchesPerEpoch => DropLast ? Dataset.Count / BatchSize : (Dataset.Count + BatchSize - 1) / BatchSize;

    public DataErrors Errors { get; } = new();

    /// <summary>Dataset indices in the order epoch <paramref name="epoch"/> visits them.</summary>
    public int[] SampleOrder(int epoch)
    {
        var order = Enumerable.Range(0, Dataset.Count).ToArray();
        if (Shuffle) Datasets.Shuffle(order, new Random(SeedMix.Combine(Seed, epoch)));
        return order;
    }

    /// <summary>
    /// The batches of one epoch, in order. Workers start on the first <c>MoveNext</c> and stop, joined, when the
    /// enumeration ends or is disposed early (a <c>break</c> out of <c>foreach</c>); batches decoded but not handed
    /// out are then disposed. A failure in a worker surfaces when the consumer reaches the batch it belongs to.
    /// </summary>
    public IEnumerable<Batch> Epoch(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        return Workers == 0 ? EpochOnCallingThread(epoch) : EpochOnWorkers(epoch);
    }

    private IEnumerable<Batch> EpochOnCallingThread(int epoch)
    {
        int[] order = SampleOrder(epoch);
        for (int b = 0; b < BatchesPerEpoch; b++)
        {
            var batch = BuildBatch(order, epoch, b, CancellationToken.None);
            if (batch is not null) yield return batch;
        }
    }

    private IEnumerable<Batch> EpochOnWorkers(int epoch)
    {
        if (BatchesPerEpoch == 0) yield break;
        using var pipeline = new Pipeline(this, epoch);
        for (int b = 0; b < BatchesPerEpoch; b++)
        {
            var batch = pipeline.Take(b);
            if (batch is not null) yield return batch;
        }
    }

    /// <summary>Loads, transforms and stacks batch <paramref name="number"/>; null when every one of its samples was skipped.</summary>
    private Batch? BuildBatch(int[] order, int epoch, int number, CancellationToken stop)
    {
        int start = number * BatchSize, end = Math.Min(start + BatchSize, order.Length);
        var images = new List<ImageData>(end - start);
        var indices = new List<int>(end - start);
        for (int position = start; position < end; position++)
        {
            stop.ThrowIfCancellationRequested();
            int index = order[position];
            var image = LoadSample(index, epoch);
            if (image is null) continue;
            if (images.Count > 0 && !image.SameShape(images[0]))
                throw new InvalidDataException(
                    $"{Dataset.Describe(index)}: transformed to {image} (C x H x W) but {Dataset.Describe(indices[0])} in the same batch " +
                    $"is {images[0]}; every image in a batch needs one shape: end the transform with a fixed-size step " +
                    "(ResizeExact, CenterCrop or RandomResizedCrop)");
            images.Add(image);
            indices.Add(index);
        }
        if (images.Count == 0) return null;

        var first = images[0];
        int size = first.Pixels.Length;
        var pixels = new float[(long)images.Count * size];
        var labels = new long[images.Count];
        for (int i = 0; i < images.Count; i++)
        {
            Array.Copy(images[i].Pixels, 0, pixels, (long)i * size, size);
            labels[i] = Dataset.LabelOf(indices[i]);
        }
        // Tensors made on the calling thread (workers = 0) would join its dispose scope; the batch owns them instead.
        // The device is explicit because TorchSharp's default device is process-wide, not per thread: a batch is made on
        // the CPU even while another thread has changed the default (ArchitectureMatch builds models on "meta").
        var imageTensor = torch.tensor(pixels, [images.Count, first.Channels, first.Height, first.Width], device: torch.CPU)
            .DetachFromDisposeScope();
        var labelTensor = torch.tensor(labels, [images.Count], device: torch.CPU).DetachFromDisposeScope();
        return new Batch(imageTensor, labelTensor, [.. indices]);
    }

    private ImageData? LoadSample(int index, int epoch)
    {
        try
        {
            var rng = new Random(SeedMix.Combine(Seed, epoch, index));
            return Transform.Apply(Dataset.Load(index), rng);
        }
        catch (BadSampleException e) when (e.Policy == BadDataPolicy.Skip)
        {
            Errors.Record(index, e.Message);
            return null;
        }
        catch (Exception e) when (e is not (BadSampleException or OperationCanceledException))
        {
            throw new InvalidOperationException($"{Dataset.Describe(index)} (sample {index}): {e.Message}", e);
        }
    }

    /// <summary>
    /// Workers claim batch numbers in increasing order and fill one slot per batch; the consumer takes slots in order.
    /// A semaphore with <see cref="Prefetch"/> permits (one per claimed batch not yet taken) bounds the work ahead.
    /// Because every batch before the one the consumer waits for has been taken, that batch is always claimed or
    /// claimable, so the consumer cannot wait forever.
    /// </summary>
    private sealed class Pipeline : IDisposable
    {
        private readonly DataLoader _loader;
        private readonly int _epoch;
        private readonly int[] _order;
        private readonly TaskCompletionSource<Batch?>[] _slots;
        private readonly SemaphoreSlim _room;
        private readonly CancellationTokenSource _stop = new();
        private readonly Thread[] _threads;
        private int _lastClaimed = -1;
        private int _taken;

        public Pipeline(DataLoader loader, int epoch)
        {
            _loader = loader;
            _epoch = epoch;
            _order = loader.SampleOrder(epoch);
            int batches = loader.BatchesPerEpoch;
            _slots = new TaskCompletionSource<Batch?>[batches];
            for (int b = 0; b < batches; b++) _slots[b] = new TaskCompletionSource<Batch?>(TaskCreationOptions.RunContinuationsAsynchronously);
            _room = new SemaphoreSlim(loader.Prefetch);
            _threads = new Thread[Math.Min(loader.Workers, batches)];
            for (int t = 0; t < _threads.Length; t++)
            {
                _threads[t] = new Thread(Work) { IsBackground = true, Name = $"DataLoader worker {t} (epoch {epoch})" };
                _threads[t].Start();
            }
        }

        /// <summary>Waits for batch <paramref name="number"/>; rethrows, with its original stack, what its worker threw.</summary>
        public Batch? Take(int number)
        {
            Debug.Assert(number == _taken, "batches are taken in order");
            var batch = _slots[number].Task.GetAwaiter().GetResult();
            _taken = number + 1;
            _room.Release();
            return batch;
        }

        private void Work()
        {
            var stop = _stop.Token;
            try
            {
                while (true)
                {
                    _room.Wait(stop);
                    int number = Interlocked.Increment(ref _lastClaimed);
                    if (number >= _slots.Length)
                    {
                        _room.Release(); // let the other workers see the end too
                        return;
                    }
                    try
                    {
                        _slots[number].SetResult(_loader.BuildBatch(_order, _epoch, number, stop));
                    }
                    catch (OperationCanceledException) when (stop.IsCancellationRequested)
                    {
                        return;
                    }
                    catch (Exception e)
                    {
                        _slots[number].SetException(e);
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // The consumer is gone: leave quietly.
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            foreach (var thread in _threads) thread.Join();
            for (int b = _taken; b < _slots.Length; b++)
            {
                var task = _slots[b].Task;
                if (task.IsCompletedSuccessfully) task.Result?.Dispose();
                else if (task.IsFaulted) _ = task.Exception; // observed: not rethrown by the finaliser's unobserved-exception event
            }
            _room.Dispose();
            _stop.Dispose();
        }
    }
}
