using Microsoft.Extensions.Logging;

namespace MoltBot.Channels.Common;

/// <summary>
/// Platform message ids already accepted, kept on disk (one id per line) so a replay after a restart (Telegram
/// webhook retry, Discord RESUME, Slack redelivery) is recognised. Bounded: the oldest ids are forgotten first and
/// the file is compacted when it grows past twice the capacity.
/// </summary>
public sealed class SeenIdStore : IDisposable
{
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();
    private readonly Lock _gate = new();
    private readonly int _capacity;
    private readonly string _path;
    private StreamWriter? _writer;
    private int _linesInFile;

    public SeenIdStore(string path, int capacity, ILogger logger)
    {
        _path = path;
        _capacity = capacity;
        if (capacity == 0) return;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (File.Exists(path))
        {
            foreach (var line in File.ReadLines(path))
            {
                if (line.Length == 0) continue; // a torn last line from a crash is harmless
                Remember(line);
                _linesInFile++;
            }
            logger.LogDebug("Loaded {Count} seen message ids from {File}", _seen.Count, path);
        }
        Compact();
    }

    public int Count
    {
        get { lock (_gate) return _seen.Count; }
    }

    public bool Contains(string key)
    {
        if (_capacity == 0) return false;
        lock (_gate) return _seen.Contains(key);
    }

    /// <summary>Remembers the id (memory and disk). Returns false if it was already known.</summary>
    public bool Add(string key)
    {
        if (_capacity == 0) return true;
        if (key.Contains('\n')) key = key.Replace('\n', ' ');
        lock (_gate)
        {
            if (!Remember(key)) return false;
            _writer!.WriteLine(key);
            _writer.Flush();
            if (++_linesInFile > 2 * _capacity) Compact();
            return true;
        }
    }

    private bool Remember(string key)
    {
        if (!_seen.Add(key)) return false;
        _order.Enqueue(key);
        while (_order.Count > _capacity) _seen.Remove(_order.Dequeue());
        return true;
    }

    private void Compact()
    {
        _writer?.Dispose();
        string tmp = _path + ".tmp";
        File.WriteAllLines(tmp, _order);
        File.Move(tmp, _path, overwrite: true);
        _linesInFile = _order.Count;
        _writer = new StreamWriter(new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.Read));
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _writer?.Dispose();
            _writer = null;
        }
    }
}
