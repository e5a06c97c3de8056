using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using MoltBot.Contracts.Messaging;

namespace MoltBot.Channels.Common;

/// <summary>
/// The replies of one platform waiting to be delivered, persisted as JSON lines under data/channels before the
/// dispatcher is told "accepted". Each line is an event: a new entry ({"seq","message"}), a delivered part of a
/// split reply ({"seq","parts"}) or a finished entry ({"seq","done"}). On start the file is replayed, so replies that
/// could not be delivered before a crash or shutdown are sent after the reconnect; recording every delivered part
/// means a retry resumes at the first unsent part instead of sending the earlier ones twice.
/// The in-memory hand-off is a bounded channel; the replayed backlog is read first, in order.
/// </summary>
public sealed class DurableOutbox : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
    };

    private readonly Lock _gate = new();
    private readonly Channel<OutboxEntry> _channel;
    private readonly Queue<OutboxEntry> _backlog = new();
    private readonly Dictionary<long, OutboxEntry> _pending = new();
    private readonly string _path;
    private readonly string _deadLetterPath;
    private readonly ILogger _logger;
    private StreamWriter _writer;
    private long _nextSeq = 1;
    private int _linesInFile;

    public DurableOutbox(string directory, string platform, int capacity, ILogger logger)
    {
        _logger = logger;
        Directory.CreateDirectory(directory);
        _path = Path.Combine(directory, platform + "-outbox.jsonl");
        _deadLetterPath = Path.Combine(directory, platform + "-deadletter.jsonl");
        _channel = Channel.CreateBounded<OutboxEntry>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
        Replay(platform);
        _writer = Rewrite();
    }

    public string FilePath => _path;
    public string DeadLetterPath => _deadLetterPath;

    public int Depth
    {
        get { lock (_gate) return _pending.Count; }
    }

    /// <summary>Persists the message, then hands it to the delivery loop (waits while the hand-off is full).</summary>
    public async ValueTask EnqueueAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        OutboxEntry entry;
        lock (_gate)
        {
            entry = new OutboxEntry(_nextSeq++, message);
            _pending[entry.Seq] = entry;
            Append(new OutboxLine { Seq = entry.Seq, Message = message });
        }
        await _channel.Writer.WriteAsync(entry, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The replayed backlog first, then new entries, in order.</summary>
    public async ValueTask<OutboxEntry> NextAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_backlog.TryDequeue(out var old)) return old;
        }
        return await _channel.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
    }

    public void MarkPartsSent(OutboxEntry entry, int parts)
    {
        lock (_gate)
        {
            entry.PartsSent = parts;
            Append(new OutboxLine { Seq = entry.Seq, Parts = parts });
        }
    }

    public void MarkDone(OutboxEntry entry)
    {
        lock (_gate)
        {
            _pending.Remove(entry.Seq);
            Append(new OutboxLine { Seq = entry.Seq, Done = true });
            // Keep the file short: once nothing is pending, it can start over.
            if (_pending.Count == 0 && _linesInFile > 1000)
            {
                _writer.Dispose();
                _writer = Rewrite();
            }
        }
    }

    /// <summary>A reply the platform refused for good: kept for a human, out of the delivery queue.</summary>
    public void DeadLetter(OutboxEntry entry, string reason)
    {
        lock (_gate)
        {
            File.AppendAllText(_deadLetterPath, JsonSerializer.Serialize(new { reason, message = entry.Message }, Json) + "\n");
        }
        MarkDone(entry);
    }

    private void Append(OutboxLine line)
    {
        _writer.WriteLine(JsonSerializer.Serialize(line, Json));
        _writer.Flush();
        _linesInFile++;
    }

    private void Replay(string platform)
    {
        if (!File.Exists(_path)) return;
        int lineNo = 0;
        var corrupt = new List<string>();
        foreach (var line in File.ReadLines(_path))
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            OutboxLine? item;
            try
            {
                item = JsonSerializer.Deserialize<OutboxLine>(line, Json);
            }
            catch (JsonException ex)
            {
                // A torn last line after a crash, or a hand edit: keep it aside rather than lose or choke on it.
                _logger.LogWarning("{File} line {Line} is not valid JSON ({Error}); moved to the dead-letter file", _path, lineNo, ex.Message);
                corrupt.Add(line);
                continue;
            }
            if (item is null) continue;
            _nextSeq = Math.Max(_nextSeq, item.Seq + 1);
            if (item.Message is not null) _pending[item.Seq] = new OutboxEntry(item.Seq, item.Message);
            else if (item.Done) _pending.Remove(item.Seq);
            else if (item.Parts is { } p && _pending.TryGetValue(item.Seq, out var e)) e.PartsSent = p;
        }
        if (corrupt.Count > 0)
        {
            File.AppendAllLines(_deadLetterPath, corrupt.Select(c => JsonSerializer.Serialize(new { reason = "corrupt outbox line", line = c }, Json)));
        }
        foreach (var e in _pending.Values.OrderBy(e => e.Seq)) _backlog.Enqueue(e);
        if (_backlog.Count > 0) _logger.LogInformation("{Platform}: {Count} undelivered repl(ies) from the last run will be sent first", platform, _backlog.Count);
    }

    /// <summary>Writes only what is still pending, atomically, and reopens the file for appending.</summary>
    private StreamWriter Rewrite()
    {
        string tmp = _path + ".tmp";
        var lines = new List<string>();
        foreach (var e in _pending.Values.OrderBy(e => e.Seq))
        {
            lines.Add(JsonSerializer.Serialize(new OutboxLine { Seq = e.Seq, Message = e.Message }, Json));
            if (e.PartsSent > 0) lines.Add(JsonSerializer.Serialize(new OutboxLine { Seq = e.Seq, Parts = e.PartsSent }, Json));
        }
        File.WriteAllLines(tmp, lines);
        File.Move(tmp, _path, overwrite: true);
        _linesInFile = lines.Count;
        return new StreamWriter(new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.Read));
    }

    public void Dispose()
    {
        lock (_gate) _writer.Dispose();
    }

    private sealed class OutboxLine
    {
        public long Seq { get; set; }
        public OutboundMessage? Message { get; set; }
        public int? Parts { get; set; }
        public bool Done { get; set; }
    }
}

/// <summary>One reply in the outbox; <see cref="PartsSent"/> counts the chunks of a split reply already delivered.</summary>
public sealed class OutboxEntry(long seq, OutboundMessage message)
{
    public long Seq { get; } = seq;
    public OutboundMessage Message { get; } = message;
    public int PartsSent { get; set; }
}
