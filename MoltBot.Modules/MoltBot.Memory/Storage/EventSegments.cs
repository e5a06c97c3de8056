using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
using MoltBot.Contracts.Configuration;

namespace MoltBot.Memory.Storage;

/// <summary>Where one event lives: its segment and byte range, plus what the index orders and filters by.</summary>
public readonly record struct EventPointer(long Ts, int Segment, int Offset, int Length, bool IsMessage) : IComparable<EventPointer>
{
    /// <summary>Time order; same-millisecond events keep their append order (segment, then file position).</summary>
    public int CompareTo(EventPointer other)
    {
        int c = Ts.CompareTo(other.Ts);
        if (c != 0) return c;
        c = Segment.CompareTo(other.Segment);
        return c != 0 ? c : Offset.CompareTo(other.Offset);
    }
}

/// <summary>
/// The event log's files: append-only segments (data/memory/&lt;DatabaseFile&gt;.events/NNNNNNNN.seg). A group commit
/// writes one frame — magic, payload length, CRC-32, then the events as length-prefixed records — and fsyncs it
/// before anyone is told it is durable. At open, a damaged frame at the very end of the last segment is the torn
/// write of a commit that was never acknowledged and is cut off; damage anywhere else (an earlier segment, or
/// followed by a valid frame) is corruption: start-up stops with a message naming the file, which is left as it is.
/// A sealed segment gets an index snapshot (<see cref="SegmentIndexFile"/>), so a start reads the snapshots of sealed
/// segments and scans only the last one (and any whose snapshot is unusable, or whose records the caller needs).
/// Not thread-safe: the event log serializes appends and rewrites and guards reads against rewrites.
/// </summary>
public sealed class EventSegments(string directory, long segmentBytes, ILogger logger) : IDisposable
{
    private const uint Magic = 0x5645424D; // "MBEV"
    private const int HeaderSize = 12;     // magic, payload length, CRC-32 of the payload
    private const string Extension = ".seg";

    // Concurrent: readers look segments up while the writer rolls to a new one.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, Segment> _segments = new();
    private FileStream? _active;
    private Segment? _activeSegment;
    // The active segment's events, for its index snapshot when it is sealed.
    private List<(string Conv, EventPointer Pointer)> _activeEntries = new();
    private Exception? _faulted;

    public string DirectoryPath { get; } = directory;

    public long TotalBytes => _segments.Values.Sum(s => s.Length);

    public int SegmentCount => _segments.Count;

    /// <summary>Sealed segments whose events came from their index snapshot at the last open (the rest were scanned).</summary>
    public int SnapshotsUsed { get; private set; }

    /// <summary>
    /// Opens (or creates) the directory and reports every stored event in file order: conversation, pointer, and the
    /// record itself when the segment was scanned. A sealed segment below <paramref name="scanFrom"/> with a usable
    /// index snapshot is not read (no record); every other one is scanned, each frame checked.
    /// </summary>
    public void Open(Action<string, EventPointer, EventRecord?> onEvent, int scanFrom = int.MaxValue)
    {
        Directory.CreateDirectory(DirectoryPath);
        foreach (var tmp in Directory.GetFiles(DirectoryPath, "*" + Extension + ".tmp")) File.Delete(tmp); // an interrupted rewrite
        foreach (var tmp in Directory.GetFiles(DirectoryPath, "*" + SegmentIndexFile.Extension + ".tmp")) File.Delete(tmp);
        var ids = new List<int>();
        foreach (var path in Directory.GetFiles(DirectoryPath, "*" + Extension))
        {
            if (!int.TryParse(Path.GetFileNameWithoutExtension(path), out int id) || id <= 0)
            {
                throw new StartupException($"Memory: unexpected file {path} in the event log directory {DirectoryPath}; move it away.");
            }
            ids.Add(id);
        }
        ids.Sort();
        SnapshotsUsed = 0;
        for (int i = 0; i < ids.Count; i++)
        {
            var segment = new Segment(ids[i], PathOf(ids[i]));
            _segments[segment.Id] = segment;
            bool isLast = i == ids.Count - 1;
            if (isLast || segment.Id >= scanFrom || !TryLoadSnapshot(segment, onEvent))
            {
                var entries = new List<(string, EventPointer)>();
                Load(segment, isLast, (record, pointer) =>
                {
                    entries.Add((record.Conv, pointer));
                    onEvent(record.Conv, pointer, record);
                });
                if (isLast) _activeEntries = entries;
                else WriteSnapshot(segment, entries);
            }
            segment.OpenForRead();
        }
        var last = _segments.Values.MaxBy(s => s.Id);
        if (last is not null && last.Length < segmentBytes) OpenActive(last);
        else
        {
            if (last is not null) WriteSnapshot(last, _activeEntries);
            _activeEntries = new();
            StartSegment((last?.Id ?? 0) + 1);
        }
    }

    private string PathOf(int id) => Path.Combine(DirectoryPath, id.ToString("D8") + Extension);

    private string SnapshotPathOf(int id) => Path.Combine(DirectoryPath, id.ToString("D8") + SegmentIndexFile.Extension);

    private bool TryLoadSnapshot(Segment segment, Action<string, EventPointer, EventRecord?> onEvent)
    {
        long length = new FileInfo(segment.Path).Length;
        var entries = SegmentIndexFile.TryRead(SnapshotPathOf(segment.Id), segment.Id, length, out string reason);
        if (entries is null)
        {
            if (File.Exists(SnapshotPathOf(segment.Id))) logger.LogWarning("Event log index snapshot {File} is unusable ({Reason}); scanning the segment instead", SnapshotPathOf(segment.Id), reason);
            return false;
        }
        foreach (var (conv, pointer) in entries)
        {
            segment.Track(pointer.Ts);
            onEvent(conv, pointer, null);
        }
        segment.Length = length;
        SnapshotsUsed++;
        return true;
    }

    /// <summary>Writes a sealed segment's index snapshot; failing only costs a scan at the next start, so it is logged, not thrown.</summary>
    private void WriteSnapshot(Segment segment, IReadOnlyList<(string Conv, EventPointer Pointer)> entries)
    {
        try
        {
            SegmentIndexFile.Write(SnapshotPathOf(segment.Id), segment.Id, segment.Length, entries);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning(ex, "Could not write the event log index snapshot for {File}; the next start scans it", segment.Path);
        }
    }

    private StartupException Corrupt(string path, string why) =>
        new($"Memory: the event log segment {path} is corrupt ({why}); it was left untouched: restore it from a backup, or move the directory {DirectoryPath} away to start with an empty event log.");

    private void Load(Segment segment, bool isLast, Action<EventRecord, EventPointer> onEvent)
    {
        long length;
        using (var file = new FileStream(segment.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16))
        {
            length = file.Length;
            long pos = 0;
            while (pos < length)
            {
                var frame = TryReadFrame(file, pos, length);
                if (frame is null)
                {
                    if (!isLast || HasValidFrameAfter(file, pos, length)) throw Corrupt(segment.Path, $"damaged frame at byte {pos}");
                    // The tail is the torn write of a commit that never completed, hence never acknowledged.
                    logger.LogWarning("Event log {File}: cutting off {Bytes} bytes of an interrupted write at byte {Position}", segment.Path, length - pos, pos);
                    file.Dispose();
                    Truncate(segment.Path, pos);
                    length = pos;
                    break;
                }
                try
                {
                    foreach (var (record, offset, size) in Records(frame.Value.Payload, pos + HeaderSize))
                    {
                        var pointer = new EventPointer(record.Ts, segment.Id, checked((int)offset), size, record.IsMessage);
                        segment.Track(record.Ts);
                        onEvent(record, pointer);
                    }
                }
                catch (InvalidDataException ex)
                {
                    throw Corrupt(segment.Path, $"unreadable event at byte {pos}: {ex.Message}");
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(frame.Value.Buffer);
                }
                pos += HeaderSize + frame.Value.Payload.Length;
            }
        }
        segment.Length = length;
    }

    private static void Truncate(string path, long length)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.Read);
        file.SetLength(length);
        file.Flush(flushToDisk: true);
    }

    private readonly record struct Frame(byte[] Buffer, ReadOnlyMemory<byte> Payload);

    /// <summary>The frame at <paramref name="pos"/>, or null if it is incomplete or fails its checksum.</summary>
    private static Frame? TryReadFrame(FileStream file, long pos, long length)
    {
        if (length - pos < HeaderSize) return null;
        Span<byte> header = stackalloc byte[HeaderSize];
        file.Position = pos;
        file.ReadExactly(header);
        if (BinaryPrimitives.ReadUInt32LittleEndian(header) != Magic) return null;
        int payloadLength = BinaryPrimitives.ReadInt32LittleEndian(header[4..]);
        if (payloadLength <= 0 || payloadLength > length - pos - HeaderSize) return null;
        var buffer = ArrayPool<byte>.Shared.Rent(payloadLength);
        file.ReadExactly(buffer, 0, payloadLength);
        if (Crc32.Compute(buffer.AsSpan(0, payloadLength)) != BinaryPrimitives.ReadUInt32LittleEndian(header[8..]))
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return null;
        }
        return new Frame(buffer, buffer.AsMemory(0, payloadLength));
    }

    /// <summary>True if a checksum-valid frame starts anywhere after the damage: then acknowledged data follows it.</summary>
    private static bool HasValidFrameAfter(FileStream file, long damagedAt, long length)
    {
        Span<byte> magic = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(magic, Magic);
        var chunk = new byte[1 << 16];
        for (long start = damagedAt + 1; start < length;)
        {
            file.Position = start;
            int read = file.ReadAtLeast(chunk, chunk.Length, throwOnEndOfStream: false);
            if (read < 4) return false;
            int at = chunk.AsSpan(0, read).IndexOf(magic);
            if (at < 0)
            {
                start += read - 3;
                continue;
            }
            long candidate = start + at;
            var frame = TryReadFrame(file, candidate, length);
            if (frame is not null)
            {
                ArrayPool<byte>.Shared.Return(frame.Value.Buffer);
                return true;
            }
            start = candidate + 1;
        }
        return false;
    }

    private static IEnumerable<(EventRecord Record, long Offset, int Size)> Records(ReadOnlyMemory<byte> payload, long payloadOffset)
    {
        int at = 0;
        while (at < payload.Length)
        {
            if (payload.Length - at < 4) throw new InvalidDataException("record length truncated");
            int size = BinaryPrimitives.ReadInt32LittleEndian(payload.Span[at..]);
            if (size <= 0 || size > payload.Length - at - 4) throw new InvalidDataException("record length out of range");
            var record = EventRecord.Decode(payload.Span.Slice(at + 4, size));
            yield return (record, payloadOffset + at + 4, size);
            at += 4 + size;
        }
    }

    private void OpenActive(Segment segment)
    {
        _active = new FileStream(segment.Path, FileMode.Open, FileAccess.Write, FileShare.Read, 1, FileOptions.None);
        _active.Position = segment.Length;
        _activeSegment = segment;
    }

    private void StartSegment(int id)
    {
        var segment = new Segment(id, PathOf(id));
        _active = new FileStream(segment.Path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 1, FileOptions.None);
        _active.Flush(flushToDisk: true);
        SyncDirectory(DirectoryPath); // the new file's directory entry must survive a crash too
        segment.OpenForRead();
        _segments[id] = segment;
        _activeSegment = segment;
    }

    /// <summary>
    /// Writes the encoded events as one frame and fsyncs it; returns where each one went. A failed write is cut off
    /// again so the file keeps only whole frames; if even that fails, the log refuses further appends.
    /// </summary>
    public EventPointer[] Append(IReadOnlyList<(string Conv, byte[] Encoded, long Ts, bool IsMessage)> events)
    {
        if (_faulted is not null) throw new IOException("The event log is unavailable after an earlier write failure; restart MoltBot.", _faulted);
        var segment = _activeSegment!;
        int payloadLength = 0;
        foreach (var e in events) payloadLength = checked(payloadLength + 4 + e.Encoded.Length);
        int total = HeaderSize + payloadLength;
        var buffer = ArrayPool<byte>.Shared.Rent(total);
        var pointers = new EventPointer[events.Count];
        try
        {
            var span = buffer.AsSpan(0, total);
            int at = HeaderSize;
            for (int i = 0; i < events.Count; i++)
            {
                var e = events[i];
                BinaryPrimitives.WriteInt32LittleEndian(span[at..], e.Encoded.Length);
                e.Encoded.CopyTo(span[(at + 4)..]);
                pointers[i] = new EventPointer(e.Ts, segment.Id, checked((int)(segment.Length + at + 4)), e.Encoded.Length, e.IsMessage);
                at += 4 + e.Encoded.Length;
            }
            BinaryPrimitives.WriteUInt32LittleEndian(span, Magic);
            BinaryPrimitives.WriteInt32LittleEndian(span[4..], payloadLength);
            BinaryPrimitives.WriteUInt32LittleEndian(span[8..], Crc32.Compute(span[HeaderSize..]));
            try
            {
                _active!.Write(span);
                _active.Flush(flushToDisk: true);
            }
            catch (Exception ex)
            {
                CutBack(segment.Length, ex);
                throw;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        segment.Length += total;
        for (int i = 0; i < events.Count; i++)
        {
            segment.Track(events[i].Ts);
            _activeEntries.Add((events[i].Conv, pointers[i]));
        }
        if (segment.Length >= segmentBytes) Roll();
        return pointers;
    }

    private void CutBack(long length, Exception cause)
    {
        try
        {
            _active!.SetLength(length);
            _active.Position = length;
            _active.Flush(flushToDisk: true);
        }
        catch (Exception ex)
        {
            _faulted = new AggregateException(cause, ex);
            logger.LogCritical(ex, "Event log {File}: could not cut off a failed write; further appends are refused", _activeSegment!.Path);
        }
    }

    /// <summary>Closes the active segment, writes its index snapshot and starts the next one.</summary>
    public void Roll()
    {
        _active?.Dispose();
        WriteSnapshot(_activeSegment!, _activeEntries);
        _activeEntries = new();
        StartSegment(_activeSegment!.Id + 1);
    }

    public EventRecord Read(EventPointer pointer)
    {
        var segment = _segments[pointer.Segment];
        var buffer = ArrayPool<byte>.Shared.Rent(pointer.Length);
        try
        {
            int read = RandomAccess.Read(segment.Handle!, buffer.AsSpan(0, pointer.Length), pointer.Offset);
            if (read != pointer.Length) throw new IOException($"Event log {segment.Path}: short read at byte {pointer.Offset}.");
            return EventRecord.Decode(buffer.AsSpan(0, pointer.Length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Every event of every segment, in file order (export and rewrites).</summary>
    public IEnumerable<(EventRecord Record, EventPointer Pointer)> ScanAll()
    {
        foreach (var segment in _segments.Values.OrderBy(s => s.Id).ToList())
        {
            foreach (var item in Scan(segment)) yield return item;
        }
    }

    private IEnumerable<(EventRecord Record, EventPointer Pointer)> Scan(Segment segment)
    {
        using var file = new FileStream(segment.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16);
        long pos = 0, length = segment.Length;
        while (pos < length)
        {
            var frame = TryReadFrame(file, pos, length) ?? throw new IOException($"Event log {segment.Path}: damaged frame at byte {pos}.");
            try
            {
                foreach (var (record, offset, size) in Records(frame.Payload, pos + HeaderSize))
                {
                    yield return (record, new EventPointer(record.Ts, segment.Id, checked((int)offset), size, record.IsMessage));
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(frame.Buffer);
            }
            pos += HeaderSize + frame.Payload.Length;
        }
    }

    /// <summary>
    /// Removes every event <paramref name="keep"/> rejects, from the segments <paramref name="mayContain"/> selects.
    /// A segment is rewritten to a temporary file, fsynced and renamed over the old one (atomic: a crash leaves the
    /// old or the new file, never a mix), or deleted when nothing in it is kept. The active segment is closed first.
    /// Returns the number removed and, per changed segment, the events it now holds (for the index).
    /// </summary>
    public (int Removed, Dictionary<int, List<(EventRecord Record, EventPointer Pointer)>> Changed) Rewrite(
        Func<SegmentInfo, bool> mayContain, Func<EventRecord, bool> keep)
    {
        int removed = 0;
        var changed = new Dictionary<int, List<(EventRecord, EventPointer)>>();
        if (_activeSegment is { Length: > 0 } active && mayContain(active.Info)) Roll();
        foreach (var segment in _segments.Values.Where(s => s != _activeSegment && mayContain(s.Info)).OrderBy(s => s.Id).ToList())
        {
            var all = Scan(segment).ToList();
            var kept = all.Where(x => keep(x.Record)).ToList();
            if (kept.Count == all.Count) continue;
            removed += all.Count - kept.Count;
            segment.CloseForRead();
            File.Delete(SnapshotPathOf(segment.Id)); // describes the old file; a new one follows the rewrite
            if (kept.Count == 0)
            {
                File.Delete(segment.Path);
                _segments.TryRemove(segment.Id, out _);
                changed[segment.Id] = [];
                continue;
            }
            var replacement = new Segment(segment.Id, segment.Path);
            var entries = new List<(EventRecord, EventPointer)>(kept.Count);
            string tmp = segment.Path + ".tmp";
            using (var file = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                var encoded = kept.Select(x => x.Record.Encode()).ToList();
                int payloadLength = encoded.Sum(e => 4 + e.Length);
                var frame = new byte[HeaderSize + payloadLength];
                int at = HeaderSize;
                for (int i = 0; i < encoded.Count; i++)
                {
                    BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(at), encoded[i].Length);
                    encoded[i].CopyTo(frame.AsSpan(at + 4));
                    var r = kept[i].Record;
                    entries.Add((r, new EventPointer(r.Ts, segment.Id, at + 4, encoded[i].Length, r.IsMessage)));
                    replacement.Track(r.Ts);
                    at += 4 + encoded[i].Length;
                }
                BinaryPrimitives.WriteUInt32LittleEndian(frame, Magic);
                BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(4), payloadLength);
                BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(8), Crc32.Compute(frame.AsSpan(HeaderSize)));
                file.Write(frame);
                file.Flush(flushToDisk: true);
                replacement.Length = frame.Length;
            }
            File.Move(tmp, segment.Path, overwrite: true);
            replacement.OpenForRead();
            _segments[segment.Id] = replacement;
            changed[segment.Id] = entries;
            WriteSnapshot(replacement, entries.Select(x => (x.Item1.Conv, x.Item2)).ToList());
        }
        if (changed.Count > 0) SyncDirectory(DirectoryPath);
        return (removed, changed);
    }

    public void Dispose()
    {
        _active?.Dispose();
        _active = null;
        foreach (var s in _segments.Values) s.CloseForRead();
    }

    /// <summary>fsync on the directory, so created, renamed and deleted segment files are durable (POSIX only).</summary>
    private static void SyncDirectory(string path)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD()) return;
        int fd = NativeMethods.open(path, 0 /* O_RDONLY */);
        if (fd < 0) throw new IOException($"Cannot open directory {path} to sync it (errno {Marshal.GetLastPInvokeError()}).");
        try
        {
            if (NativeMethods.fsync(fd) != 0) throw new IOException($"fsync of directory {path} failed (errno {Marshal.GetLastPInvokeError()}).");
        }
        finally
        {
            _ = NativeMethods.close(fd);
        }
    }

    private static class NativeMethods
    {
        [DllImport("libc", SetLastError = true)]
        public static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        [DllImport("libc", SetLastError = true)]
        public static extern int fsync(int fd);

        [DllImport("libc", SetLastError = true)]
        public static extern int close(int fd);
    }

    /// <summary>What a rewrite may select segments by.</summary>
    public readonly record struct SegmentInfo(int Id, long MinTs, long MaxTs, int Count);

    private sealed class Segment(int id, string path)
    {
        public int Id { get; } = id;
        public string Path { get; } = path;
        public long Length { get; set; }
        public long MinTs { get; private set; } = long.MaxValue;
        public long MaxTs { get; private set; } = long.MinValue;
        public int Count { get; private set; }
        public SafeFileHandle? Handle { get; private set; }
        public SegmentInfo Info => new(Id, MinTs, MaxTs, Count);

        public void Track(long ts)
        {
            MinTs = Math.Min(MinTs, ts);
            MaxTs = Math.Max(MaxTs, ts);
            Count++;
        }

        public void OpenForRead() => Handle ??= File.OpenHandle(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);

        public void CloseForRead()
        {
            Handle?.Dispose();
            Handle = null;
        }
    }
}
