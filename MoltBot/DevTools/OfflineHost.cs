using MoltBot.Hosting;

namespace MoltBot.DevTools;

/// <summary>
/// The whole MoltBot host for tools that drive the message handler directly (`replay`, `test-stories`): a fresh
/// data directory in a temporary folder, HTTP on a free loopback port, no log files; deleted afterwards.
/// </summary>
internal static class OfflineHost
{
    /// <param name="argsFor">Extra configuration arguments, given the temporary work folder (e.g. a trace directory in it).</param>
    /// <param name="whileRunning">Runs against the started host.</param>
    /// <param name="afterStop">Runs once the host has stopped (its files flushed), before the work folder is deleted.</param>
    public static async Task<T> RunAsync<T>(string[] hostArgs, Func<string, string[]>? argsFor, Action<WebApplicationBuilder>? configure,
        Func<IServiceProvider, Task> whileRunning, Func<string, Task<T>> afterStop, CancellationToken cancellationToken)
    {
        string work = Directory.CreateTempSubdirectory("moltbot-offline").FullName;
        try
        {
            string[] args =
            [
                .. hostArgs, "--urls", "http://127.0.0.1:0", "--Storage:DataDirectory", Path.Combine(work, "data"), "--Log:File", "false",
                .. argsFor?.Invoke(work) ?? [],
            ];
            var app = MoltBotApp.Build(new MoltBotAppOptions { Args = args, Configure = configure });
            await using (app.ConfigureAwait(false))
            {
                await app.StartAsync(cancellationToken).ConfigureAwait(false);
                await whileRunning(app.Services).ConfigureAwait(false);
                await app.StopAsync(cancellationToken).ConfigureAwait(false);
            }
            return await afterStop(work).ConfigureAwait(false);
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); } catch (IOException) { }
        }
    }
}
