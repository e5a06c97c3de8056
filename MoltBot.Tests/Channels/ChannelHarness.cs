using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using MoltBot.Channels;
using MoltBot.Contracts.Configuration;
using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;
using MoltBot.Pipeline;

namespace MoltBot.Tests.Channels;

/// <summary>
/// The channels module composed with the real pipeline on a real Kestrel (127.0.0.1, port 0), a temp data
/// directory and a deterministic echo handler. Restartable on the same data directory.
/// </summary>
public sealed class ChannelHarness : IAsyncDisposable
{
    private readonly bool _ownsRoot;

    private ChannelHarness(WebApplication app, string root, EchoHandler handler, bool ownsRoot)
    {
        App = app;
        Root = root;
        Handler = handler;
        _ownsRoot = ownsRoot;
    }

    public WebApplication App { get; }
    public string Root { get; }
    public string DataDirectory => Path.Combine(Root, "data");
    public EchoHandler Handler { get; }
    public Uri BaseAddress => new(App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    public T Adapter<T>() where T : notnull => App.Services.GetRequiredService<T>();
    public HttpClient CreateClient() => new() { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

    public static WebApplication Build(IDictionary<string, string?> settings, string root, EchoHandler handler, TimeProvider? clock = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = root, EnvironmentName = "Testing" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var all = new Dictionary<string, string?>
        {
            ["Pipeline:ShardCount"] = "4",
            ["Pipeline:DrainTimeoutSeconds"] = "5",
        };
        foreach (var (k, v) in settings) all[k] = v;
        builder.Configuration.AddInMemoryCollection(all);
        var services = builder.Services;
        services.AddSingleton(new MoltBotPaths(root, Path.Combine(root, "data"), Path.Combine(root, "models")));
        services.AddSingleton(clock ?? TimeProvider.System);
        services.AddMoltBotChannels(builder.Configuration);
        services.AddSingleton<IMessageHandler>(handler);
        services.AddMoltBotPipeline(builder.Configuration);
        var app = builder.Build();
        app.MapMoltBotChannels();
        return app;
    }

    public static async Task<ChannelHarness> StartAsync(IDictionary<string, string?> settings, string? root = null, EchoHandler? handler = null, TimeProvider? clock = null)
    {
        bool owns = root is null;
        root ??= Directory.CreateTempSubdirectory("moltbot-channels").FullName;
        handler ??= new EchoHandler();
        var app = Build(settings, root, handler, clock);
        try
        {
            await app.StartAsync();
        }
        catch
        {
            // e.g. options validation failed: release the host and the temp folder before reporting.
            await app.DisposeAsync();
            if (owns) Directory.Delete(root, recursive: true);
            throw;
        }
        return new ChannelHarness(app, root, handler, owns);
    }

    public async Task<HealthReportEntry> ChannelsHealthAsync()
    {
        var report = await App.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(r => r.Tags.Contains("ready"));
        return report.Entries["channels"];
    }

    public async Task StopAsync() => await App.StopAsync();

    /// <summary>Stops the host but keeps the data directory (for restart tests).</summary>
    public async Task StopKeepDataAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        try { await App.StopAsync(); } catch (ObjectDisposedException) { }
        try { await App.DisposeAsync(); } catch (ObjectDisposedException) { }
        if (_ownsRoot)
        {
            try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>Waits (polling) until the condition holds; fails with the message after the timeout.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what, int timeoutSeconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail("Timed out waiting for: " + what);
            await Task.Delay(20);
        }
    }
}

/// <summary>Deterministic test handler: answers "re:" + text, records what it saw (in order).</summary>
public sealed class EchoHandler : IMessageHandler
{
    public ConcurrentQueue<Envelope> Seen { get; } = new();

    /// <summary>Stream the answer: typing, two deltas ("re:" and the text), then the final reply.</summary>
    public bool Stream { get; set; }

    /// <summary>When set, every message waits here before it is answered (to fill the queues).</summary>
    public SemaphoreSlim? Gate { get; set; }

    public async Task HandleAsync(Envelope envelope, IReplyWriter reply, CancellationToken cancellationToken)
    {
        Seen.Enqueue(envelope);
        if (Gate is not null) await Gate.WaitAsync(cancellationToken);
        if (Stream)
        {
            await reply.TypingAsync(cancellationToken);
            await reply.DeltaAsync("re:", cancellationToken);
            await reply.DeltaAsync(envelope.Text, cancellationToken);
        }
        await reply.FinalAsync(new Reply("re:" + envelope.Text), cancellationToken);
    }
}
