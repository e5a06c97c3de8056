using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MoltBot.Contracts.Configuration;
using MoltBot.Contracts.Security;
using MoltBot.Security.Pii;

namespace MoltBot.Security.Audit;

/// <summary>
/// The append-only audit log: JSON lines in {DataDirectory}/audit/audit.jsonl, hash-chained. Appenders from any
/// thread go through one bounded channel to one writer, which assigns sequence numbers and the chain; each
/// append completes once its line is on disk (or, with Security:Audit:SyncMilliseconds, once it is written to the
/// OS and fsynced within that idle interval). Actor, target and outcome pass the PII detector first. A head file
/// (audit.head) remembers the last sequence number and hash, so removing records at the end shows too.
/// </summary>
public sealed class AuditLog : IAuditLog, IHostedService, IAsyncDisposable
{
    private readonly Channel<Pending> _queue;
    private readonly TimeProvider _clock;
    private readonly ILogger<AuditLog> _logger;
    private readonly Task _writer;

    private readonly TimeSpan _syncInterval;
    private bool _unsynced; // written to the OS, not yet fsynced (writer loop only)

    /// <param name="syncInterval">Zero (default): an append completes once its batch is fsynced. Otherwise it
    /// completes once written to the OS, and the file is fsynced when the queue has been idle this long
    /// (Security:Audit:SyncMilliseconds): a process crash loses nothing, a power loss at most that window.</param>
    public AuditLog(string filePath, int capacity, TimeProvider clock, ILogger<AuditLog> logger, TimeSpan syncInterval = default)
    {
        FilePath = filePath;
        _clock = clock;
        _logger = logger;
        _syncInterval = syncInterval;
        _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
        _writer = Task.Run(WriteLoopAsync);
    }

    public string FilePath { get; }

    private long _fsyncs;

    /// <summary>fsyncs of the log file so far (diagnostics and tests: one per batch, or one per idle interval).</summary>
    public long Fsyncs => Interlocked.Read(ref _fsyncs);
    public string HeadPath => HeadPathFor(FilePath);

    public static string HeadPathFor(string filePath) => Path.ChangeExtension(filePath, ".head");

    public static string PathFrom(SecurityOptions options, MoltBotPaths paths) => paths.Data(options.Audit.File);

    public async ValueTask AppendAsync(AuditEntry entry, CancellationToken cancellationToken)
    {
        var pending = new Pending(entry, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        await _queue.Writer.WriteAsync(pending, cancellationToken).ConfigureAwait(false);
        await pending.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads the chain's tail at start, so a damaged log stops the host with a clear message instead of being extended.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(FilePath)!);
        await using var file = await OpenLockedAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var (seq, hash) = ReadTail(file);
            _tail = new Tail(file.Length, seq, hash);
        }
        catch (InvalidDataException ex)
        {
            throw new StartupException(ex.Message, ex);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task WriteLoopAsync()
    {
        var reader = _queue.Reader;
        while (await WaitOrSyncAsync(reader).ConfigureAwait(false))
        {
            var batch = new List<Pending>();
            while (batch.Count < 256 && reader.TryRead(out var item)) batch.Add(item);
            try
            {
                await WriteBatchAsync(batch).ConfigureAwait(false);
                foreach (var item in batch) item.Done.TrySetResult();
            }
            catch (Exception ex)
            {
                _logger.LogError(ex, "{Count} audit record(s) could not be written to {File}", batch.Count, FilePath);
                foreach (var item in batch) item.Done.TrySetException(ex);
            }
        }
    }

    /// <summary>
    /// Waits for appends. With a sync interval, a file written but not fsynced is fsynced once no append arrived for
    /// that long, and at the end.
    /// </summary>
    private async Task<bool> WaitOrSyncAsync(ChannelReader<Pending> reader)
    {
        while (_unsynced)
        {
            using var idle = new CancellationTokenSource(_syncInterval);
            try
            {
                if (await reader.WaitToReadAsync(idle.Token).ConfigureAwait(false)) return true;
                // Shutting down: one last fsync, whatever its outcome.
                await SyncAsync().ConfigureAwait(false);
                return false;
            }
            catch (OperationCanceledException) when (idle.IsCancellationRequested)
            {
            }
            await SyncAsync().ConfigureAwait(false);
        }
        return await reader.WaitToReadAsync().ConfigureAwait(false);
    }

    private async Task SyncAsync()
    {
        try
        {
            await using var file = await OpenLockedAsync(CancellationToken.None).ConfigureAwait(false);
            file.Flush(flushToDisk: true);
            Interlocked.Increment(ref _fsyncs);
            _unsynced = false;
        }
        catch (IOException ex)
        {
            _logger.LogError(ex, "Audit log {File} could not be fsynced; retrying after the next interval", FilePath);
        }
    }

    /// <summary>
    /// Under an exclusive file lock (the CLI may append while the server runs), finds the chain's tail, appends the
    /// batch and updates the head file. The tail comes from what this process last wrote when the file still has
    /// that length and ends with that record's hash; otherwise (another process appended, the file was replaced or
    /// cut) it is read back and verified from the file. Synchronous on purpose: this runs on the writer loop, and an
    /// async file call on Linux is a thread-pool hop per call on the path of every audited model call.
    /// </summary>
    private async Task WriteBatchAsync(List<Pending> batch)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(FilePath)!);
        await using var file = await OpenLockedAsync(CancellationToken.None).ConfigureAwait(false);
        long length = file.Length;
        var (seq, prev) = _tail is { } known && known.Length == length && (length == 0 || EndsWithHash(file, length, known.Hash))
            ? (known.Seq, known.Hash)
            : ReadTail(file);
        _tail = null; // until this batch is fully written: a failed write leaves an unknown tail
        var sb = new StringBuilder();
        foreach (var item in batch)
        {
            var e = item.Entry;
            var record = new AuditRecord
            {
                Seq = seq + 1,
                Ts = e.TimestampMs > 0 ? e.TimestampMs : _clock.GetUtcNow().ToUnixTimeMilliseconds(),
                Actor = PiiMasker.MaskAnonymous(e.Actor),
                Role = e.Role,
                Action = e.Action,
                Target = PiiMasker.MaskAnonymous(e.Target),
                Model = e.Model,
                LatencyMs = e.LatencyMs,
                InputTokens = e.InputTokens,
                OutputTokens = e.OutputTokens,
                InputHash = e.InputHash,
                OutputHash = e.OutputHash,
                Outcome = e.Outcome is null ? null : PiiMasker.MaskAnonymous(e.Outcome),
                Prev = prev,
            };
            record = record with { Hash = record.ComputeHash() };
            sb.Append(record.ToJsonLine()).Append('\n');
            seq = record.Seq;
            prev = record.Hash!;
        }
        byte[] bytes = Encoding.UTF8.GetBytes(sb.ToString());
        file.Seek(length, SeekOrigin.Begin);
        file.Write(bytes);
        if (_syncInterval > TimeSpan.Zero)
        {
            file.Flush(flushToDisk: false);
            _unsynced = true;
        }
        else
        {
            file.Flush(flushToDisk: true);
            Interlocked.Increment(ref _fsyncs);
        }
        File.WriteAllText(HeadPath, $"{seq} {prev}\n");
        _tail = new Tail(length + bytes.Length, seq, prev);
    }

    /// <summary>The chain's tail as this process last wrote it (writer loop only; null: read it from the file).</summary>
    private volatile Tail? _tail;

    private long _tailReads;

    /// <summary>Times the chain's tail was read back and verified from the file (diagnostics and tests).</summary>
    public long TailReads => Interlocked.Read(ref _tailReads);

    private sealed record Tail(long Length, long Seq, string Hash);

    /// <summary>
    /// True when the file's last line ends with <c>"hash":"{hash}"}</c>: the record this process wrote last is still
    /// the last one (the hash is the record's last property). Reads 67 bytes.
    /// </summary>
    private static bool EndsWithHash(FileStream file, long length, string hash)
    {
        Span<byte> end = stackalloc byte[hash.Length + 3];
        if (length < end.Length) return false;
        file.Seek(length - end.Length, SeekOrigin.Begin);
        file.ReadExactly(end);
        if (end[^3] != (byte)'"' || end[^2] != (byte)'}' || end[^1] != (byte)'\n') return false;
        for (int i = 0; i < hash.Length; i++)
            if (end[i] != (byte)hash[i]) return false;
        return true;
    }

    private async Task<FileStream> OpenLockedAsync(CancellationToken cancellationToken)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(FilePath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (attempt < 200 && File.Exists(FilePath))
            {
                // Another process (the CLI or the server) holds the lock for a moment.
                await Task.Delay(25, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The last record's seq and hash (0 and the genesis hash for an empty log); a damaged tail is an error.</summary>
    private (long Seq, string Hash) ReadTail(FileStream stream)
    {
        Interlocked.Increment(ref _tailReads);
        long length = stream.Length;
        if (length == 0) return (0, AuditRecord.GenesisHash);
        string last = LastLine(stream, length);
        AuditRecord? record;
        try
        {
            record = AuditRecord.Parse(last);
        }
        catch (System.Text.Json.JsonException)
        {
            record = null;
        }
        if (record?.Hash is null || record.ComputeHash() != record.Hash)
            throw new InvalidDataException($"Audit log {FilePath} ends with a damaged record; run `moltbot audit verify` and move the file aside to start a new chain.");
        return (record.Seq, record.Hash);
    }

    /// <summary>
    /// The file's last line, read backwards from the end in chunks that double until the line's start is in view:
    /// this runs once per batch (every model call is audited), so it must not read — and allocate — the whole tail
    /// (it used to read up to 1 MB per batch, a large-object allocation per NLU call once the log had grown).
    /// </summary>
    internal static string LastLine(FileStream stream, long length)
    {
        for (int chunk = 4096; ; chunk *= 2)
        {
            int size = (int)Math.Min(length, chunk);
            stream.Seek(length - size, SeekOrigin.Begin);
            var buffer = new byte[size];
            stream.ReadExactly(buffer);
            int end = size;
            while (end > 0 && buffer[end - 1] is (byte)'\n' or (byte)'\r') end--;
            int nl = Array.LastIndexOf(buffer, (byte)'\n', Math.Max(0, end - 1), end);
            // A newline found, or the whole file read: the line starts after it (UTF-8 never has 0x0A inside a character).
            if (nl >= 0 || size == length || size >= 1 << 24) return Encoding.UTF8.GetString(buffer, nl + 1, end - nl - 1);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
    }

    private sealed record Pending(AuditEntry Entry, TaskCompletionSource Done);
}
