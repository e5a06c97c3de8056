using Microsoft.Extensions.Logging;

namespace MoltBot.Skills.Plugins;

/// <summary>
/// Watches the plugins and per-skill config folders and asks for a reload once the files have been quiet for the
/// debounce time (copying a plugin fires many events; reloading on each would load half-written files).
/// </summary>
internal sealed class PluginWatcher : IDisposable
{
    private readonly List<FileSystemWatcher> _watchers = [];
    private readonly Func<Task> _reload;
    private readonly ILogger _logger;
    private readonly Timer _debounce;
    private readonly TimeSpan _quiet;

    public PluginWatcher(IEnumerable<string> directories, TimeSpan quiet, Func<Task> reload, ILogger logger)
    {
        _reload = reload;
        _logger = logger;
        _quiet = quiet;
        // File events happen in real time, so the debounce uses a real timer, not the (possibly fake) TimeProvider.
        _debounce = new Timer(_ => _ = FireAsync(), null, Timeout.Infinite, Timeout.Infinite);
        foreach (var dir in directories.Where(Directory.Exists))
        {
            try
            {
                _watchers.Add(Watch(dir));
            }
            catch (IOException ex)
            {
                // e.g. the inotify instance limit: MoltBot still runs, plugins reload via the admin API instead.
                _logger.LogWarning("Cannot watch {Directory} for plugin changes ({Reason}); hot reload is off for it, use the admin reload", dir, ex.Message);
            }
        }
    }

    private FileSystemWatcher Watch(string dir)
    {
        var w = new FileSystemWatcher(dir)
        {
            IncludeSubdirectories = true,
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size,
        };
        w.Changed += OnEvent;
        w.Created += OnEvent;
        w.Deleted += OnEvent;
        w.Renamed += OnEvent;
        w.Error += (_, e) => _logger.LogWarning(e.GetException(), "Plugin watcher lost events in {Directory}; rescanning", dir);
        w.Error += OnEvent;
        try
        {
            w.EnableRaisingEvents = true;
        }
        catch
        {
            w.Dispose();
            throw;
        }
        return w;
    }

    private void OnEvent(object sender, EventArgs e) => _debounce.Change(_quiet, Timeout.InfiniteTimeSpan);

    private async Task FireAsync()
    {
        try
        {
            await _reload().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Plugin reload failed");
        }
    }

    public void Dispose()
    {
        foreach (var w in _watchers) w.Dispose();
        _debounce.Dispose();
    }
}
