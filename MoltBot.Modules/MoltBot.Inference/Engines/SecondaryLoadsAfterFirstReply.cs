using MoltBot.Contracts.Pipeline;

namespace MoltBot.Inference.Engines;

/// <summary>Starts the deferred secondary model loads once the first reply of the process has been sent.</summary>
internal sealed class SecondaryLoadsAfterFirstReply(ModelRegistry registry) : FirstReplyObserver
{
    protected override void OnFirstReply() => registry.LoadSecondaryModelsNow();
}
