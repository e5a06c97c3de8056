using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Configuration;
using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;
using MoltBot.Pipeline;
using MoltBot.Pipeline.Tracing;

namespace MoltBot.Bench;

/// <summary>
/// Pipeline overhead without models: 10,000 messages from 1,000 users through inbound queue → router → shard
/// workers → outbound lanes → an in-memory adapter. Reports time per batch; messages/s = 10,000 / mean.
/// </summary>
[MemoryDiagnoser]
public class PipelineBenchmarks
{
    private const int Messages = 10_000;
    private PipelineService _service = null!;
    private MessageQueues _queues = null!;
    private CountingAdapter _adapter = null!;
    private Envelope[] _envelopes = null!;
    private string _dir = null!;

    [Params(2, 8)]
    public int Shards { get; set; }

    [GlobalSetup]
    public async Task Setup()
    {
        _dir = Directory.CreateTempSubdirectory("moltbot-bench").FullName;
        var options = Options.Create(new PipelineOptions { ShardCount = Shards });
        _queues = new MessageQueues(options);
        _adapter = new CountingAdapter();
        _service = new PipelineService(_queues, new EchoHandler(), [], [], [], [_adapter],
            new PendingMessageStore(_dir, NullLogger<PendingMessageStore>.Instance), new UndeliveredStore(_dir),
            new JsonlTraceRecorder(Options.Create(new TraceOptions()), new MoltBotPaths(_dir, _dir, _dir), NullLogger<JsonlTraceRecorder>.Instance),
            options, TimeProvider.System, NullLogger<PipelineService>.Instance);
        await _service.StartAsync(CancellationToken.None);
        _envelopes = Enumerable.Range(0, Messages).Select(i => new Envelope
        {
            Id = "m" + i, Platform = Platforms.Web, ConversationId = "c" + (i % 1000), UserId = "u" + (i % 1000), Text = "hello",
        }).ToArray();
    }

    [Benchmark(OperationsPerInvoke = Messages)]
    public async Task ThroughPipeline()
    {
        _adapter.Reset(Messages);
        foreach (var e in _envelopes) await _queues.EnqueueAsync(e, CancellationToken.None);
        await _adapter.AllDelivered;
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _service.StopAsync(CancellationToken.None);
        Directory.Delete(_dir, recursive: true);
    }

    private sealed class EchoHandler : IMessageHandler
    {
        public Task HandleAsync(Envelope envelope, IReplyWriter reply, CancellationToken ct) =>
            reply.FinalAsync(new Reply(envelope.Text), ct).AsTask();
    }

    private sealed class CountingAdapter : IChannelAdapter
    {
        private int _remaining;
        private TaskCompletionSource _done = new();
        public string Platform => Platforms.Web;
        public ChannelState State => ChannelState.Connected;
        public Task AllDelivered => _done.Task;

        public void Reset(int expected)
        {
            _remaining = expected;
            _done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        public ValueTask SendAsync(OutboundMessage message, CancellationToken ct)
        {
            if (message.Kind == OutboundKind.Final && Interlocked.Decrement(ref _remaining) == 0) _done.TrySetResult();
            return ValueTask.CompletedTask;
        }
    }
}
