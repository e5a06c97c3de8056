using MoltBot.Contracts.Pipeline;

namespace MoltBot.Inference.Engines;

/// <summary>
/// Starts the deferred secondary model loads once the first reply of the process has been sent (the pipeline reports
/// every sent reply as the <see cref="Stages.Total"/> stage): until then the first turn has the CPU to itself.
/// After the first reply this costs one volatile read per reply.
/// </summary>
internal sealed class FirstReplyObserver(ModelRegistry registry) : IPipelineObserver
{
    private int seen;

    public void OnStage(string platform, string conversationId, string stage, TimeSpan elapsed)
    {
        if (stage != Stages.Total || Volatile.Read(ref seen) == 1) return;
        if (Interlocked.Exchange(ref seen, 1) == 0) registry.LoadSecondaryModelsNow();
    }
}
