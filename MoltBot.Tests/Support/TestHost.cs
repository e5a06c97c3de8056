using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using MoltBot.Hosting;

namespace MoltBot.Tests;

/// <summary>
/// A real MoltBot host (real Kestrel on 127.0.0.1, a free port) in this process, with its own temporary content
/// root and data directory. Configuration overrides go in as "--Section:Key value" pairs.
/// </summary>
public sealed class TestHost : IAsyncDisposable
{
    private TestHost(WebApplication app, string root)
    {
        App = app;
        Root = root;
    }

    public WebApplication App { get; }
    public IServiceProvider Services => App.Services;

    /// <summary>Temporary content root; the data directory is Root/data unless overridden.</summary>
    public string Root { get; }
    public string DataDirectory => Path.Combine(Root, "data");
    public Uri BaseAddress => new(App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    public HttpClient CreateClient() => new() { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };

    /// <param name="settings">Configuration overrides, e.g. { ["Pipeline:ShardCount"] = "2" }.</param>
    /// <param name="configure">Last word on services (fakes).</param>
    /// <param name="root">Reuse a content root (e.g. to restart on the same data); default: a new temp folder.</param>
    public static async Task<TestHost> StartAsync(
        IDictionary<string, string>? settings = null, Action<WebApplicationBuilder>? configure = null, string? root = null)
    {
        var app = Build(settings, configure, ref root);
        try
        {
            await app.StartAsync();
        }
        catch
        {
            // A start that fails has already opened stores and log files (and began loading models): close them, so a
            // test that expects the failure can delete its folder without racing writers it cannot see.
            await app.DisposeAsync();
            throw;
        }
        return new TestHost(app, root!);
    }

    public static WebApplication Build(IDictionary<string, string>? settings, Action<WebApplicationBuilder>? configure, ref string? root)
    {
        root ??= Directory.CreateTempSubdirectory("moltbot-test").FullName;
        var all = new Dictionary<string, string>
        {
            ["urls"] = "http://127.0.0.1:0",
            ["Storage:DataDirectory"] = Path.Combine(root, "data"),
            ["Models:Directory"] = Path.Combine(RepoRoot.Path, "models"),
            ["Log:Console"] = "none",
            // Host tests run without trained models; the inference module then reports "models" as degraded.
            ["Inference:ContinueWithoutBrokenModel"] = "true",
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string>()) all[k] = v;
        var args = all.SelectMany(kv => new[] { "--" + kv.Key, kv.Value }).ToArray();
        return MoltBotApp.Build(new MoltBotAppOptions { ContentRoot = root, Args = args, Configure = configure });
    }

    public async Task StopAsync() => await App.StopAsync();

    public async ValueTask DisposeAsync()
    {
        try { await App.StopAsync(); } catch (ObjectDisposedException) { }
        await App.DisposeAsync();
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
