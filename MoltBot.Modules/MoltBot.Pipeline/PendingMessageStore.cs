using System.Text.Json;
using Microsoft.Extensions.Logging;
using MoltBot.Contracts.Messaging;

namespace MoltBot.Pipeline;

/// <summary>
/// Messages accepted but not answered when MoltBot stopped: written as JSON lines under
/// {DataDirectory}/pipeline/pending-inbound.jsonl and handled first at the next start.
/// </summary>
public sealed class PendingMessageStore(string directory, ILogger<PendingMessageStore> logger)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly SemaphoreSlim _gate = new(1, 1);

    public string FilePath { get; } = Path.Combine(directory, "pending-inbound.jsonl");

    public async Task AppendAsync(IReadOnlyCollection<Envelope> envelopes, CancellationToken cancellationToken)
    {
        if (envelopes.Count == 0) return;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Directory.CreateDirectory(directory);
            await using var stream = new FileStream(FilePath, FileMode.Append, FileAccess.Write, FileShare.Read);
            await using var writer = new StreamWriter(stream);
            foreach (var e in envelopes)
            {
                await writer.WriteLineAsync(JsonSerializer.Serialize(e, Json)).ConfigureAwait(false);
            }
            await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
            stream.Flush(flushToDisk: true);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Takes the persisted messages: the file is renamed first, so a crash while re-queuing cannot lose them
    /// (the renamed file is read again at the next start).
    /// </summary>
    public async Task<IReadOnlyList<Envelope>> TakeAllAsync(CancellationToken cancellationToken)
    {
        string taking = FilePath + ".taking";
        if (File.Exists(FilePath))
        {
            if (File.Exists(taking))
            {
                // A previous start crashed mid-way: merge both files.
                await File.AppendAllTextAsync(taking, await File.ReadAllTextAsync(FilePath, cancellationToken), cancellationToken).ConfigureAwait(false);
                File.Delete(FilePath);
            }
            else
            {
                File.Move(FilePath, taking);
            }
        }
        if (!File.Exists(taking)) return [];

        var result = new List<Envelope>();
        int lineNumber = 0;
        foreach (var line in await File.ReadAllLinesAsync(taking, cancellationToken).ConfigureAwait(false))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                result.Add(JsonSerializer.Deserialize<Envelope>(line, Json) ?? throw new JsonException("null envelope"));
            }
            catch (JsonException ex)
            {
                // Keep the unreadable line for a human instead of dropping it.
                logger.LogError("Unreadable pending message at {File}:{Line}: {Error}; kept in {File}.bad", taking, lineNumber, ex.Message, FilePath);
                await File.AppendAllTextAsync(FilePath + ".bad", line + Environment.NewLine, cancellationToken).ConfigureAwait(false);
            }
        }
        return result;
    }

    /// <summary>Called once every taken message is back in the queue.</summary>
    public void CompleteTake()
    {
        string taking = FilePath + ".taking";
        if (File.Exists(taking)) File.Delete(taking);
    }
}
