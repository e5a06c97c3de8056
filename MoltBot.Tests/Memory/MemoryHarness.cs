using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Configuration;
using MoltBot.Contracts.Inference;
using MoltBot.Memory;

namespace MoltBot.Tests.Memory;

/// <summary>
/// The real memory module (real LiteDB file in a temp directory) composed through its registration and started
/// like the host starts it; extra services (the dialog module, fakes) come in through <c>configure</c>.
/// </summary>
public sealed class MemoryHarness : IAsyncDisposable
{
    private readonly List<IHostedService> _started = new();
    private bool _stopped;

    private MemoryHarness(ServiceProvider services, string root)
    {
        Services = services;
        Root = root;
    }

    public ServiceProvider Services { get; }
    public string Root { get; }
    public string DataDirectory => Path.Combine(Root, "data");
    public string DatabaseFile => Path.Combine(DataDirectory, "memory", "moltbot.db");

    public T Get<T>() where T : notnull => Services.GetRequiredService<T>();

    public static ServiceProvider BuildProvider(string root, IDictionary<string, string?>? settings, TimeProvider? clock, Action<IServiceCollection>? configure)
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(new MoltBotPaths(root, Path.Combine(root, "data"), Path.Combine(root, "models")));
        services.AddSingleton(clock ?? TimeProvider.System);
        services.AddSingleton<ISentenceEmbedder>(new HashEmbedder());
        services.AddMoltBotMemory(config);
        configure?.Invoke(services);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = false });
    }

    /// <param name="root">Reuse a root to restart on the same data; default: a new temp folder.</param>
    public static async Task<MemoryHarness> StartAsync(string? root = null, IDictionary<string, string?>? settings = null,
        TimeProvider? clock = null, Action<IServiceCollection>? configure = null)
    {
        root ??= Directory.CreateTempSubdirectory("moltbot-memory-test").FullName;
        var provider = BuildProvider(root, settings, clock, configure);
        var harness = new MemoryHarness(provider, root);
        try
        {
            _ = provider.GetRequiredService<IOptions<MemoryOptions>>().Value; // what ValidateOnStart does in the host
            foreach (var hosted in provider.GetServices<IHostedService>())
            {
                await hosted.StartAsync(CancellationToken.None);
                harness._started.Add(hosted);
            }
        }
        catch
        {
            await harness.StopAsync();
            await provider.DisposeAsync();
            throw;
        }
        return harness;
    }

    public async Task StopAsync()
    {
        if (_stopped) return;
        _stopped = true;
        for (int i = _started.Count - 1; i >= 0; i--) await _started[i].StopAsync(CancellationToken.None);
    }

    /// <summary>Stops and disposes, keeping the data (for a restart on the same root).</summary>
    public async Task RestartableStopAsync()
    {
        await StopAsync();
        await Services.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await Services.DisposeAsync();
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
