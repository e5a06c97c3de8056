using System.Globalization;

namespace MoltBot.Channels.Common;

/// <summary>
/// When each user last wrote to us (ms), on disk as "user\tms" lines, compacted on load. WhatsApp needs it across
/// restarts to know whether the 24-hour customer-service window is still open.
/// </summary>
public sealed class LastInboundStore : IDisposable
{
    private readonly Dictionary<string, long> _last = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly StreamWriter _writer;

    public LastInboundStore(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (File.Exists(path))
        {
            foreach (var line in File.ReadLines(path))
            {
                int tab = line.LastIndexOf('\t');
                if (tab <= 0 || !long.TryParse(line.AsSpan(tab + 1), NumberStyles.Integer, CultureInfo.InvariantCulture, out long ms)) continue;
                string user = line[..tab];
                if (!_last.TryGetValue(user, out long old) || ms > old) _last[user] = ms;
            }
        }
        File.WriteAllLines(path + ".tmp", _last.Select(kv => kv.Key + "\t" + kv.Value.ToString(CultureInfo.InvariantCulture)));
        File.Move(path + ".tmp", path, overwrite: true);
        _writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read));
    }

    public void Record(string user, long ms)
    {
        lock (_gate)
        {
            if (_last.TryGetValue(user, out long old) && old >= ms) return;
            _last[user] = ms;
            _writer.WriteLine(user.Replace('\t', ' ').Replace('\n', ' ') + "\t" + ms.ToString(CultureInfo.InvariantCulture));
            _writer.Flush();
        }
    }

    public long? Get(string user)
    {
        lock (_gate) return _last.TryGetValue(user, out long ms) ? ms : null;
    }

    public void Dispose()
    {
        lock (_gate) _writer.Dispose();
    }
}
