using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;

namespace MoltBot.Pipeline;

/// <summary>
/// Drains one outbound lane: runs the outbound filters and hands each event to the adapter of its platform.
/// An event no adapter could take is written to {DataDirectory}/pipeline/undelivered.jsonl, never dropped.
/// </summary>
internal sealed class OutboundDispatcher(
    int lane,
    MessageQueues queues,
    IReadOnlyDictionary<string, IChannelAdapter> adapters,
    IReadOnlyList<IOutboundFilter> filters,
    IReadOnlyList<IPipelineObserver> observers,
    UndeliveredStore undelivered,
    ILogger logger)
{
    public async Task RunAsync(CancellationToken abort)
    {
        var reader = queues.OutboundLanes[lane].Reader;
        try
        {
            while (await reader.WaitToReadAsync(abort).ConfigureAwait(false))
            {
                while (reader.TryRead(out var item))
                {
                    await DeliverAsync(item, abort).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            // Persist what the drain could not deliver in time.
            var left = new List<OutboundMessage>();
            while (reader.TryRead(out var item)) left.Add(item.Message);
            await undelivered.AppendAsync(left, "shutdown drain timeout").ConfigureAwait(false);
        }
    }

    private async Task DeliverAsync(QueuedOutbound item, CancellationToken abort)
    {
        // The undelivered file keeps the event as the pipeline made it: before outbound filters restore masked values.
        var original = item.Message;
        var message = original;
        if (!adapters.TryGetValue(message.Platform, out var adapter))
        {
            logger.LogWarning("No channel adapter for platform {Platform}; event for {ConversationId} kept in {File}",
                message.Platform, message.ConversationId, undelivered.FilePath);
            await undelivered.AppendAsync([message], "no adapter for platform").ConfigureAwait(false);
            return;
        }
        try
        {
            foreach (var filter in filters) message = await filter.ApplyAsync(message, abort).ConfigureAwait(false);
            long start = Stopwatch.GetTimestamp();
            await adapter.SendAsync(message, abort).ConfigureAwait(false);
            if (message.Kind is OutboundKind.Final or OutboundKind.Error)
            {
                Observe(message, Stages.Send, Stopwatch.GetElapsedTime(start));
                if (item.InboundTimestamp != 0) Observe(message, Stages.Total, Stopwatch.GetElapsedTime(item.InboundTimestamp));
            }
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            await undelivered.AppendAsync([original], "shutdown drain timeout").ConfigureAwait(false);
            throw;
        }
        catch (Exception ex)
        {
            // Typing and deltas are transient; the final reply is what must not be lost.
            if (message.Kind is OutboundKind.Final or OutboundKind.Error)
            {
                logger.LogError(ex, "Adapter {Platform} failed to deliver the reply to {MessageId}; kept in {File}",
                    message.Platform, message.InReplyTo, undelivered.FilePath);
                await undelivered.AppendAsync([original], ex.GetType().Name + ": " + ex.Message).ConfigureAwait(false);
            }
            else
            {
                logger.LogDebug(ex, "Adapter {Platform} failed to deliver a {Kind} event", message.Platform, message.Kind);
            }
        }
    }

    private void Observe(OutboundMessage m, string stage, TimeSpan elapsed)
    {
        foreach (var o in observers) o.OnStage(m.Platform, m.ConversationId, stage, elapsed);
    }
}

/// <summary>Replies no adapter could deliver, kept as JSON lines for the channel module's retry or a human.</summary>
public sealed class UndeliveredStore(string directory)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly SemaphoreSlim _gate = new(1, 1);

    public string FilePath { get; } = Path.Combine(directory, "undelivered.jsonl");

    public async Task AppendAsync(IReadOnlyCollection<OutboundMessage> messages, string reason)
    {
        if (messages.Count == 0) return;
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            Directory.CreateDirectory(directory);
            var lines = messages.Select(m => JsonSerializer.Serialize(new { reason, message = m }, Json));
            await File.AppendAllLinesAsync(FilePath, lines).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<IReadOnlyList<OutboundMessage>> ReadAllAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(FilePath)) return [];
        var result = new List<OutboundMessage>();
        foreach (var line in await File.ReadAllLinesAsync(FilePath, cancellationToken).ConfigureAwait(false))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            using var doc = JsonDocument.Parse(line);
            var m = doc.RootElement.GetProperty("message").Deserialize<OutboundMessage>(Json);
            if (m is not null) result.Add(m);
        }
        return result;
    }
}
