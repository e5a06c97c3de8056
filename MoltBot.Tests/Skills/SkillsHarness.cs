using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Configuration;
using MoltBot.Contracts.Inference;
using MoltBot.Contracts.Memory;
using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;
using MoltBot.Contracts.Skills;
using MoltBot.Skills;

namespace MoltBot.Tests.Skills;

/// <summary>
/// The skills module on its own: real DI registration (AddMoltBotSkills), real LiteDB files and plugin folders under a
/// temporary content root, hosted services started and stopped like the host does. Fakes: clock, outbound queue,
/// fact memory.
/// </summary>
public sealed class SkillsHarness : IAsyncDisposable
{
    private readonly ServiceProvider _provider;
    private readonly List<IHostedService> _started = [];

    private SkillsHarness(ServiceProvider provider, string root, RecordingOutboundQueue outbound, CapturingLoggerProvider logs)
    {
        _provider = provider;
        Root = root;
        Outbound = outbound;
        Logs = logs;
    }

    public string Root { get; }
    public string PluginsDirectory => Path.Combine(Root, "plugins");
    public string SkillConfigDirectory => Path.Combine(Root, "config", "skills");
    public RecordingOutboundQueue Outbound { get; }
    public CapturingLoggerProvider Logs { get; }
    public IServiceProvider Services => _provider;
    public ISkillDispatcher Dispatcher => _provider.GetRequiredService<ISkillDispatcher>();

    public static string NewRoot() => Directory.CreateTempSubdirectory("moltbot-skills").FullName;

    /// <param name="waitForStarted">False: return after StartAsync, before the StartedAsync calls (the test runs them).</param>
    public static async Task<SkillsHarness> StartAsync(
        string? root = null, IDictionary<string, string?>? settings = null, TimeProvider? clock = null,
        IFactMemory? memory = null, Action<IServiceCollection>? configure = null, bool waitForStarted = true)
    {
        root ??= NewRoot();
        // The reminder database opens while the module starts, as before its deferral; the deferral's tests set a delay.
        var all = new Dictionary<string, string?> { ["Skills:HotReload"] = "false", ["Skills:Reminders:OpenDelayMs"] = "0" };
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>()) all[k] = v;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(all).Build();

        var logs = new CapturingLoggerProvider();
        var outbound = new RecordingOutboundQueue();
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
        services.AddSingleton(new MoltBotPaths(root, Path.Combine(root, "data"), Path.Combine(root, "models")));
        services.AddSingleton(clock ?? TimeProvider.System);
        services.AddSingleton<IOutboundQueue>(outbound);
        if (memory is not null) services.AddSingleton(memory);
        services.AddMoltBotSkills(configuration);
        configure?.Invoke(services);

        var provider = services.BuildServiceProvider();
        var harness = new SkillsHarness(provider, root, outbound, logs);
        try
        {
            provider.GetService<IStartupValidator>()?.Validate();
            // In the host's order: every StartingAsync, then StartAsync one by one, then every StartedAsync.
            var hostedServices = provider.GetServices<IHostedService>().ToList();
            foreach (var lifecycle in hostedServices.OfType<IHostedLifecycleService>()) await lifecycle.StartingAsync(CancellationToken.None);
            foreach (var hosted in hostedServices)
            {
                await hosted.StartAsync(CancellationToken.None);
                harness._started.Add(hosted);
            }
            if (waitForStarted)
            {
                foreach (var lifecycle in hostedServices.OfType<IHostedLifecycleService>()) await lifecycle.StartedAsync(CancellationToken.None);
            }
        }
        catch
        {
            await harness.DisposeAsync();
            throw;
        }
        return harness;
    }

    public static NluResult Nlu(string intent = Intents.OutOfScope, float confidence = 0.1f, string language = "en") =>
        new(intent, confidence, [], language);

    public static SkillContext Context(string text, string language = "en", string intent = Intents.OutOfScope,
        IReadOnlyDictionary<string, string>? slots = null, string conversation = "conv-1", string user = "user-1",
        string? timeZone = null, string? city = null, string? traceId = null) => new()
    {
        Envelope = new Envelope
        {
            Id = Guid.NewGuid().ToString("N"),
            Platform = Platforms.Web,
            ConversationId = conversation,
            UserId = user,
            Text = text,
            Language = language,
        },
        Nlu = new NluResult(intent, 0.9f, [], language),
        Slots = slots ?? new Dictionary<string, string>(),
        Language = language,
        TimeZone = timeZone,
        City = city,
        TraceId = traceId ?? Guid.NewGuid().ToString("N"),
    };

    /// <summary>Matches the text like the dialog manager would and runs the matched skill.</summary>
    public async Task<(string? SkillId, SkillResult Result)> SayAsync(string text, string language = "en",
        IReadOnlyDictionary<string, string>? slots = null, string? timeZone = null, string conversation = "conv-1", string user = "user-1")
    {
        var match = Dispatcher.Match(text, Nlu(language: language));
        Assert.NotNull(match);
        var result = await Dispatcher.ExecuteAsync(match.Id, Context(text, language, slots: slots, timeZone: timeZone, conversation: conversation, user: user), CancellationToken.None);
        return (match.Id, result);
    }

    public async ValueTask DisposeAsync()
    {
        for (int i = _started.Count - 1; i >= 0; i--)
        {
            if (_started[i] is IHostedLifecycleService lifecycle) await lifecycle.StoppingAsync(CancellationToken.None);
        }
        for (int i = _started.Count - 1; i >= 0; i--) await _started[i].StopAsync(CancellationToken.None);
        await _provider.DisposeAsync();
    }

    public static void DeleteRoot(string root)
    {
        try { Directory.Delete(root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
