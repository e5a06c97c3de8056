using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MoltBot.Contracts.Configuration;
using MoltBot.Contracts.Inference;
using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;
using MoltBot.Contracts.Skills;
using MoltBot.Skills;
using MoltBot.Skills.Reminders;

namespace MoltBot.Bench;

/// <summary>
/// Skill dispatch overhead: matching a turn against the built-in skills (keyword tables, English and Chinese), a full
/// ExecuteAsync of the time skill (gate, timeout, Task.Run, containment), and the reminder time parser.
/// </summary>
[MemoryDiagnoser]
public class SkillBenchmarks
{
    private static readonly NluResult Unknown = new(Intents.OutOfScope, 0.1f, [], "en");
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);
    private static readonly TimeZoneInfo Shanghai = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai");
    private ServiceProvider _provider = null!;
    private ISkillDispatcher _dispatcher = null!;
    private SkillContext _timeContext = null!;
    private string _root = null!;

    [GlobalSetup]
    public async Task Setup()
    {
        _root = Directory.CreateTempSubdirectory("moltbot-bench-skills").FullName;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Skills:HotReload"] = "false" }).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(new MoltBotPaths(_root, Path.Combine(_root, "data"), Path.Combine(_root, "models")));
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<IOutboundQueue, DiscardingOutbound>();
        services.AddMoltBotSkills(configuration);
        _provider = services.BuildServiceProvider();
        foreach (var hosted in _provider.GetServices<IHostedService>()) await hosted.StartAsync(CancellationToken.None);
        _dispatcher = _provider.GetRequiredService<ISkillDispatcher>();
        _timeContext = new SkillContext
        {
            Envelope = new Envelope { Id = "1", Platform = Platforms.Web, ConversationId = "c", UserId = "u", Text = "what time is it in Tokyo" },
            Nlu = Unknown,
        };
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        foreach (var hosted in _provider.GetServices<IHostedService>().Reverse()) await hosted.StopAsync(CancellationToken.None);
        await _provider.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Benchmark]
    public string? MatchEnglish() => _dispatcher.Match("remind me in 10 minutes to stretch my legs", Unknown)?.Id;

    [Benchmark]
    public string? MatchChinese() => _dispatcher.Match("明天早上8点提醒我开会", Unknown)?.Id;

    [Benchmark]
    public string? MatchNothing() => _dispatcher.Match("tell me something nice about the sea and the mountains", Unknown)?.Id;

    [Benchmark]
    public async Task<string> ExecuteTime() => (await _dispatcher.ExecuteAsync("time", _timeContext, CancellationToken.None)).Text;

    [Benchmark]
    public DateTimeOffset? ParseReminderTime() => ReminderTimeParser.Parse("明天下午三点半提醒我去开会", Now, Shanghai)?.DueUtc;

    private sealed class DiscardingOutbound : IOutboundQueue
    {
        public int Depth => 0;

        public ValueTask EnqueueAsync(OutboundMessage message, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
