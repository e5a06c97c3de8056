using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Configuration;
using MoltBot.Contracts.Diagnostics;
using Prometheus;

namespace MoltBot.Pipeline.Tracing;

/// <summary>
/// Writes trace events as JSON lines, one file per conversation, from a background writer fed by a bounded
/// channel. Tracing must never slow the pipeline: when the buffer is full an event is counted as dropped
/// (metric moltbot_trace_events_dropped_total, and a warning), never blocking a message.
/// </summary>
public sealed class JsonlTraceRecorder : ITraceRecorder, IHostedService, IAsyncDisposable
{
    private static readonly Counter Dropped = Metrics.CreateCounter(
        "moltbot_trace_events_dropped_total", "Trace events dropped because the trace buffer was full.");
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = false };

    private readonly Channel<TraceEvent> _buffer;
    private readonly string _directory;
    private readonly ILogger<JsonlTraceRecorder> _logger;
    private Task _writer = Task.CompletedTask;
    private long _dropped;

    public JsonlTraceRecorder(IOptions<TraceOptions> options, MoltBotPaths paths, ILogger<JsonlTraceRecorder> logger)
    {
        Enabled = options.Value.Enabled;
        _directory = Path.GetFullPath(options.Value.Directory, paths.DataDirectory);
        _logger = logger;
        _buffer = Channel.CreateBounded<TraceEvent>(new BoundedChannelOptions(options.Value.BufferCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
    }

    public bool Enabled { get; }
    public string Directory => _directory;

    public void Record(TraceEvent traceEvent)
    {
        if (!Enabled) return;
        if (_buffer.Writer.TryWrite(traceEvent)) return;
        Dropped.Inc();
        if (Interlocked.Increment(ref _dropped) % 1000 == 1)
            _logger.LogWarning("Trace buffer full: dropped {Count} trace event(s) so far (Trace:BufferCapacity)", _dropped);
    }

    /// <summary>The trace file of one conversation (file-name-safe).</summary>
    public static string FileFor(string directory, string conversationKey)
    {
        var sb = new StringBuilder(conversationKey.Length);
        foreach (char c in conversationKey) sb.Append(char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_');
        return Path.Combine(directory, sb + ".jsonl");
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (Enabled)
        {
            System.IO.Directory.CreateDirectory(_directory);
            _writer = Task.Run(WriteLoopAsync, CancellationToken.None);
        }
        return Task.CompletedTask;
    }

    private async Task WriteLoopAsync()
    {
        var reader = _buffer.Reader;
        var batch = new Dictionary<string, StringBuilder>();
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (reader.TryRead(out var e))
            {
                if (!batch.TryGetValue(e.ConversationKey, out var sb)) batch[e.ConversationKey] = sb = new StringBuilder();
                sb.AppendLine(JsonSerializer.Serialize(e, Json));
            }
            foreach (var (conversation, lines) in batch)
            {
                try
                {
                    await File.AppendAllTextAsync(FileFor(_directory, conversation), lines.ToString()).ConfigureAwait(false);
                }
                catch (IOException ex)
                {
                    _logger.LogError(ex, "Cannot write trace for {ConversationKey}", conversation);
                }
            }
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _buffer.Writer.TryComplete();
        await _writer.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        _buffer.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
    }
}
