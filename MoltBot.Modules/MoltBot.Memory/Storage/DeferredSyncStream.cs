namespace MoltBot.Memory.Storage;

/// <summary>
/// LiteDB's log (WAL) file, handed to LiteDB as a custom stream so that its per-commit <c>Flush</c> does not fsync.
/// LiteDB 5 fsyncs the log on every commit (≈ 60 % of the server's CPU per turn here, kernel time included, and the
/// commit's latency); the event log already makes every message and dialog event durable before a reply, so the
/// LiteDB side is fsynced by <see cref="DatabaseSyncer"/> every Memory:DatabaseSyncMilliseconds instead.
/// Writes go straight to the OS (unbuffered), so a process crash loses nothing this stream was given (pages still in
/// LiteDB's own writer queue can be lost, as before); a power loss can also drop the last interval. Messages either
/// loses are restored from the event log at start (<see cref="MoltBot.Memory.LogReplay"/>).
/// Truncation (LiteDB's checkpoint, after the data file was fsynced) is fsynced at once: a log whose truncation was
/// lost could replay stale pages over newer ones.
/// </summary>
public sealed class DeferredSyncStream(string path) : Stream
{
    // bufferSize 0: every Write is a pwrite, nothing waits in a managed buffer.
    private readonly FileStream _file = new(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 0);
    private long _unsyncedWrites;

    public string Path { get; } = path;

    /// <summary>Whether anything was written since the last <see cref="SyncToDisk"/>.</summary>
    public bool HasUnsyncedWrites => Interlocked.Read(ref _unsyncedWrites) > 0;

    /// <summary>fsync. Safe to call while LiteDB writes on another thread: it touches only the OS handle.</summary>
    public void SyncToDisk()
    {
        long seen = Interlocked.Read(ref _unsyncedWrites);
        _file.Flush(flushToDisk: true);
        Interlocked.Add(ref _unsyncedWrites, -seen);
    }

    public override bool CanRead => _file.CanRead;
    public override bool CanSeek => _file.CanSeek;
    public override bool CanWrite => _file.CanWrite;
    public override long Length => _file.Length;

    public override long Position
    {
        get => _file.Position;
        set => _file.Position = value;
    }

    /// <summary>LiteDB calls this after each commit: the bytes are already with the OS; the fsync is deferred.</summary>
    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => _file.Read(buffer, offset, count);

    public override long Seek(long offset, SeekOrigin origin) => _file.Seek(offset, origin);

    public override void SetLength(long value)
    {
        _file.SetLength(value);
        _file.Flush(flushToDisk: true);
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
        _file.Write(buffer, offset, count);
        Interlocked.Increment(ref _unsyncedWrites);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            if (HasUnsyncedWrites) _file.Flush(flushToDisk: true);
            _file.Dispose();
        }
        base.Dispose(disposing);
    }
}
