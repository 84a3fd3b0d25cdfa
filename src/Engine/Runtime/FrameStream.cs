using System.Threading.Channels;
using VQToken.Ingestion;

namespace VQToken.Engine.Runtime;

/// <summary>A video's frames as they arrive from ingestion, in sampling order: a bounded channel of RGB chunks, so
/// ffmpeg waits for the vision tower and memory holds a few chunks, never the video. The producer writes to
/// <see cref="Writer"/> and completes it (with the error when decoding failed); each write wakes the engine.</summary>
public sealed class FrameStream
{
    private readonly Channel<RgbFrames> _chunks;
    private readonly Queue<RgbFrames> _pending = new();   // engine thread only: chunks read, partly taken
    private int _pendingOffset, _pendingFrames, _taken;
    private Action? _wake;

    /// <param name="count">Frames the producer will write in all.</param>
    /// <param name="size">Side of each square frame.</param>
    /// <param name="bufferedChunks">Chunks written ahead of the engine before the producer waits.</param>
    public FrameStream(int count, int size, int bufferedChunks = 2)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferedChunks, 1);
        (Count, Size) = (count, size);
        _chunks = Channel.CreateBounded<RgbFrames>(new BoundedChannelOptions(bufferedChunks) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
        Writer = new WakingWriter(_chunks.Writer, this);
    }

    public int Count { get; }
    public int Size { get; }

    /// <summary>Where the producer writes chunks [n, Size, Size, 3] and completes the stream.</summary>
    public ChannelWriter<RgbFrames> Writer { get; }

    /// <summary>Called (from any thread) whenever a chunk arrives or the stream completes.</summary>
    internal void OnArrival(Action wake)
    {
        _wake = wake;
        wake();   // anything written before the engine took the stream is seen at once
    }

    /// <summary>Frames that can be taken now without waiting, up to <paramref name="wanted"/>; reads only as many
    /// chunks as that needs, so the producer stays held back by the channel's bound.</summary>
    internal int Ready(int wanted)
    {
        while (_pendingFrames < wanted && _chunks.Reader.TryRead(out var chunk))
        {
            if (chunk.Size != Size || chunk.Count < 1 || _taken + _pendingFrames + chunk.Count > Count)
                throw new InvalidOperationException($"the frame stream got a chunk of {chunk.Count} frames of {chunk.Size}x{chunk.Size}; it expects {Count} frames of {Size}x{Size} in all");
            chunk.Validate();
            _pending.Enqueue(chunk);
            _pendingFrames += chunk.Count;
        }
        return Math.Min(_pendingFrames, wanted);
    }

    /// <summary>Why no more frames will come although some are missing: the producer's error, or an early end. Null while frames may still come.</summary>
    internal Exception? Failure
    {
        get
        {
            if (_pendingFrames > 0 || !_chunks.Reader.Completion.IsCompleted || _chunks.Reader.TryPeek(out _)) return null;
            if (_chunks.Reader.Completion.Exception?.GetBaseException() is { } error) return error;
            if (_chunks.Reader.Completion.IsCanceled) return new OperationCanceledException("the frame stream was cancelled");
            return _taken < Count ? new InvalidOperationException($"the frame stream ended after {_taken} of {Count} frames") : null;
        }
    }

    /// <summary>The next <paramref name="count"/> frames (at most <see cref="Ready"/>) as the vision tower's input
    /// [count, 3, S, S]; each chunk used up goes back to the pool (<see cref="RentBuffer"/>), so a long video
    /// reuses a few buffers instead of leaving the garbage collector a video's worth of them.</summary>
    internal TorchSharp.torch.Tensor TakePixels(int count, TorchSharp.torch.Device device)
    {
        if (count < 1 || count > _pendingFrames) throw new InvalidOperationException($"{count} frames taken, {_pendingFrames} ready");
        using var scope = TorchSharp.torch.NewDisposeScope();
        var pieces = new List<TorchSharp.torch.Tensor>();
        for (int done = 0; done < count;)
        {
            var chunk = _pending.Peek();
            int n = Math.Min(count - done, chunk.Count - _pendingOffset);
            pieces.Add(chunk.ToPixels(_pendingOffset, n, device));
            (done, _pendingOffset) = (done + n, _pendingOffset + n);
            if (_pendingOffset < chunk.Count) continue;
            _pending.Dequeue();
            _pendingOffset = 0;
            if (_recycled.Count < RecycledBuffers) _recycled.Enqueue(chunk.Data);
        }
        _pendingFrames -= count;
        _taken += count;
        var pixels = pieces.Count == 1 ? pieces[0] : TorchSharp.torch.cat(pieces, 0);
        return pixels.MoveToOuterDisposeScope();
    }

    /// <summary>A buffer of <paramref name="length"/> bytes for the producer's next chunk: a used one when there is one
    /// of that size (the last chunk of a video may be shorter), else a new one.</summary>
    public byte[] RentBuffer(int length)
    {
        for (int tries = _recycled.Count; tries > 0 && _recycled.TryDequeue(out var buffer); tries--)
        {
            if (buffer.Length == length) return buffer;
        }
        return new byte[length];
    }

    private readonly System.Collections.Concurrent.ConcurrentQueue<byte[]> _recycled = new();
    private const int RecycledBuffers = 4;

    /// <summary>Drops what the engine holds of the stream and tells the producer to stop (the video was cancelled or failed).</summary>
    internal void Abandon()
    {
        _chunks.Writer.TryComplete(new ChannelClosedException("the video's encoding ended"));
        while (_chunks.Reader.TryRead(out _)) { }
        _pending.Clear();
        _pendingFrames = 0;
    }

    private void Wake() => _wake?.Invoke();

    /// <summary>The channel's writer, waking the engine after each chunk and at completion.</summary>
    private sealed class WakingWriter(ChannelWriter<RgbFrames> inner, FrameStream owner) : ChannelWriter<RgbFrames>
    {
        public override bool TryWrite(RgbFrames item)
        {
            if (!inner.TryWrite(item)) return false;
            owner.Wake();
            return true;
        }

        public override ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken = default) => inner.WaitToWriteAsync(cancellationToken);

        public override bool TryComplete(Exception? error = null)
        {
            bool completed = inner.TryComplete(error);
            owner.Wake();
            return completed;
        }
    }
}
