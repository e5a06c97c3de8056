using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MoltBot.Contracts.Configuration;
using MoltBot.Contracts.Memory;
using MoltBot.Memory;

namespace MoltBot.Bench;

/// <summary>
/// Event-log append with group commit on a real data directory: <see cref="Writers"/> concurrent appenders each
/// append <see cref="PerWriter"/> events and wait for every acknowledgement (durable: fsynced). One operation is
/// one whole round, so events/s = Writers × PerWriter / mean. Also a single append (one event, one commit) — the
/// latency a lone writer sees — and a conversation range query. `memory eventlog` is the throughput report.
/// </summary>
[MemoryDiagnoser]
public class EventLogBenchmarks
{
    private ServiceProvider _provider = null!;
    private List<IHostedService> _hosted = null!;
    private IEventLog _log = null!;
    private string _root = null!;
    private long _ts;

    [Params(1, 256)]
    public int Writers { get; set; }

    public const int PerWriter = 40;

    [GlobalSetup]
    public async Task Setup()
    {
        _root = Directory.CreateTempSubdirectory("moltbot-bench-eventlog").FullName;
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(new MoltBotPaths(_root, Path.Combine(_root, "data"), Path.Combine(_root, "models")));
        services.AddSingleton(TimeProvider.System);
        services.AddMoltBotMemory(new ConfigurationBuilder().Build());
        _provider = services.BuildServiceProvider();
        _hosted = _provider.GetServices<IHostedService>().ToList();
        foreach (var h in _hosted) await h.StartAsync(CancellationToken.None);
        _log = _provider.GetRequiredService<IEventLog>();
        _ts = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        for (int i = 0; i < 1000; i++) await _log.AppendAsync(Event(i % 50), CancellationToken.None);
    }

    private LoggedEvent Event(int writer) =>
        new($"web:c{writer}", $"web:u{writer}", EventKinds.MessageIn, Interlocked.Increment(ref _ts), "hello there, this is a message of ordinary length");

    [Benchmark(Description = "append round: Writers × 40 acknowledged events")]
    public Task AppendRound() => Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
    {
        for (int i = 0; i < PerWriter; i++) await _log.AppendAsync(Event(w), CancellationToken.None);
    })));

    [Benchmark(Description = "range query: one conversation, 20 events")]
    public Task<IReadOnlyList<LoggedEvent>> Range() => _log.RangeAsync("web:c7", 0, long.MaxValue / 2, 20, CancellationToken.None);

    [GlobalCleanup]
    public async Task Cleanup()
    {
        foreach (var h in Enumerable.Reverse(_hosted)) await h.StopAsync(CancellationToken.None);
        await _provider.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }
}
