using VQToken.Engine.Runtime;

namespace VQToken.Engine.Scheduling;

/// <summary>The video half of the scheduler: frame batches across videos, then compression slices, and
/// how requests leave.</summary>
public sealed partial class Scheduler
{
    /// <summary>Frames of the waiting videos in order until the frame budget is used (a streamed video gives
    /// what has arrived); videos whose frames are all encoded start their compression.</summary>
    private void EncodeFrames(IModelRunner runner)
    {
        var slices = new List<FrameSlice>();
        int left = budget.MaxBatchFrames;
        foreach (var encode in _encoding.ToList())
        {
            if (left == 0) break;
            int count;
            try
            {
                count = encode.FramesReady(Math.Min(left, encode.FramesTotal - encode.FramesEncoded));
                if (count == 0 && encode.FrameSourceFailure is { } failure) throw failure;
            }
            catch (Exception e)
            {
                Drop(runner, encode, e);   // the decoder failed: this video fails, the others go on
                continue;
            }
            if (count == 0) continue;
            slices.Add(new FrameSlice(encode, encode.FramesEncoded, count));
            left -= count;
        }
        if (slices.Count == 0) return;
        runner.EncodeFrames(slices);
        foreach (var (encode, _, count) in slices)
        {
            encode.FramesEncoded += count;
            encode.Report("encoding");
            if (encode.FramesEncoded < encode.FramesTotal) continue;
            _encoding.Remove(encode);
            try
            {
                if (runner.StartCompression(encode)) CompleteEncode(runner, encode);
                else _compressing.Add(encode);
            }
            catch (Exception e) when (IsRequestError(e))
            {
                Drop(runner, encode, e);
            }
        }
    }

    /// <summary>One slice of one video's compression (videos take turns).</summary>
    private void CompressSlice(IModelRunner runner)
    {
        var encode = _compressing[0];
        _compressing.RemoveAt(0);
        try
        {
            if (runner.CompressSlice(encode)) CompleteEncode(runner, encode);
            else _compressing.Add(encode);
        }
        catch (Exception e) when (IsRequestError(e))
        {
            Drop(runner, encode, e);
        }
    }

    private void CompleteEncode(IModelRunner runner, ScheduledEncode encode)
    {
        metrics?.CompressionDuration.Record(encode.CompressionMs);
        encode.Report("compressed");
        Release(runner, encode);
        encode.Complete();
    }

    /// <summary>Fails every request taken (the engine stops or its loop failed).</summary>
    public void FailAll(IModelRunner? runner, Exception error)
    {
        foreach (var request in _encoding.Concat<ScheduledRequest>(_compressing).Concat(_waiting).Concat(_prefilling).Concat(_running).ToList())
        {
            if (runner is not null) Release(runner, request);
            request.Fail(error);
        }
        _encoding.Clear();
        _compressing.Clear();
        _waiting.Clear();
        _prefilling.Clear();
        _running.Clear();
    }

    /// <summary>The request fails alone (its input or its tensors); the others go on.</summary>
    private void Drop(IModelRunner runner, ScheduledRequest request, Exception error)
    {
        Remove(request);
        Release(runner, request);
        request.Fail(error);
    }

    private void Remove(ScheduledRequest request)
    {
        if (request is ScheduledAsk ask)
        {
            _waiting.Remove(ask);
            _prefilling.Remove(ask);
            _running.Remove(ask);
        }
        else if (request is ScheduledEncode encode)
        {
            _encoding.Remove(encode);
            _compressing.Remove(encode);
        }
    }

    private static void Release(IModelRunner runner, ScheduledRequest request)
    {
        runner.Release(request);
        if (request is ScheduledAsk ask)
        {
            ask.PrefillActivity?.Dispose();
            ask.PrefillActivity = null;
        }
    }
}
