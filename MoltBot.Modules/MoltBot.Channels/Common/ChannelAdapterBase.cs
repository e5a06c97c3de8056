using Microsoft.Extensions.Logging;
using MoltBot.Contracts.Configuration;
using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;
using Polly;

namespace MoltBot.Channels.Common;

/// <summary>
/// What every platform adapter shares: start/stop at run time, the durable outbox and its delivery loop, the
/// on-disk de-duplication of platform message ids, the Polly pipeline and the connection state.
/// A platform supplies its connection loop (socket, long polling or health pings), rendering and one-part delivery.
/// </summary>
public abstract class ChannelAdapterBase : IChannelAdapter, IAsyncDisposable
{
    private readonly SemaphoreSlim _lifecycle = new(1, 1);
    private readonly MoltBotPaths _paths;
    private CancellationTokenSource? _run;
    private Task[] _loops = [];
    private SeenIdStore? _seen;
    private DurableOutbox? _outbox;

    protected ChannelAdapterBase(string platform, ChannelOptions options, IInboundQueue inbound, MoltBotPaths paths, TimeProvider clock, ILogger logger)
    {
        Platform = platform;
        Options = options;
        Inbound = inbound;
        _paths = paths;
        Clock = clock;
        Logger = logger;
        Tracker = new ChannelStateTracker(platform);
        // Built at first use: a platform that is not enabled (the default for all of them) never pays for Polly's
        // options validation (DataAnnotations by reflection) on the way to the server's first reply.
        _resilience = new Lazy<ResiliencePipeline>(() => ChannelResilience.Build(options, Tracker, logger));
    }

    private readonly Lazy<ResiliencePipeline> _resilience;

    public string Platform { get; }
    public ChannelState State => Tracker.State;
    public bool Enabled { get; private set; }
    public ChannelStateTracker Tracker { get; }
    public int OutboxDepth => _outbox?.Depth ?? 0;

    protected ChannelOptions Options { get; }
    protected IInboundQueue Inbound { get; }
    protected TimeProvider Clock { get; }
    protected ILogger Logger { get; }
    protected ResiliencePipeline Resilience => _resilience.Value;

    /// <summary>Whether the retry/circuit-breaker pipeline exists yet (it is built when the platform first sends or polls).</summary>
    internal bool ResilienceBuilt => _resilience.IsValueCreated;

    /// <summary>Largest message the platform accepts, in characters of rendered text.</summary>
    protected abstract int MessageLimit { get; }

    /// <summary>The health ping / heartbeat timeout the issue asks for.</summary>
    protected static readonly TimeSpan PingTimeout = TimeSpan.FromSeconds(5);

    public string DataPath(string file) => _paths.Data("channels", Platform + "-" + file);

    internal DurableOutbox Outbox => _outbox ?? throw new InvalidOperationException($"{Platform} adapter was never started.");
    protected SeenIdStore Seen => _seen ?? throw new InvalidOperationException($"{Platform} adapter was never started.");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Enabled) return;
            OpenStores();
            await OnStartingAsync(cancellationToken).ConfigureAwait(false);
            _run = new CancellationTokenSource();
            var token = _run.Token;
            Tracker.Set(ChannelState.Connecting);
            Enabled = true;
            _loops =
            [
                Task.Run(() => GuardAsync("connection", RunConnectionAsync, token), CancellationToken.None),
                Task.Run(() => GuardAsync("outbox", RunOutboxAsync, token), CancellationToken.None),
            ];
            Logger.LogInformation("{Platform} adapter started ({BaseUrl})", Platform, Options.BaseUrl);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!Enabled) return;
            Enabled = false;
            await _run!.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(_loops).ConfigureAwait(false);
            _run.Dispose();
            _run = null;
            await OnStoppedAsync().ConfigureAwait(false);
            Tracker.Set(ChannelState.Disabled);
            Logger.LogInformation("{Platform} adapter stopped; {Pending} repl(ies) kept in the outbox", Platform, OutboxDepth);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    private readonly Lock _storesGate = new();

    private void OpenStores()
    {
        lock (_storesGate)
        {
            _seen ??= new SeenIdStore(DataPath("seen.txt"), Options.DedupCapacity, Logger);
            _outbox ??= new DurableOutbox(_paths.Data("channels"), Platform, 10_000, Logger);
        }
    }

    /// <summary>Before the loops start (e.g. load a persisted offset).</summary>
    protected virtual Task OnStartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>After the loops ended (e.g. close sockets).</summary>
    protected virtual Task OnStoppedAsync() => Task.CompletedTask;

    /// <summary>Receives from the platform (socket, long polling) or pings it (webhook platforms) until cancelled.</summary>
    protected abstract Task RunConnectionAsync(CancellationToken cancellationToken);

    /// <summary>Renders common markup into the platform's dialect.</summary>
    protected abstract string Render(string text);

    /// <summary>Sends one part of a reply (one attempt; the caller retries). <paramref name="part"/> is 0-based.</summary>
    protected abstract Task DeliverPartAsync(OutboxEntry entry, string renderedPart, int part, CancellationToken cancellationToken);

    /// <summary>The platform's typing action, if it has one.</summary>
    protected virtual Task SendTypingAsync(OutboundMessage message, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Streaming: platforms that cannot stream ignore deltas and send the final text.</summary>
    protected virtual Task OnDeltaAsync(OutboundMessage message, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Extra gate before a reply is sent (e.g. WhatsApp's 24-hour window); throw PermanentDeliveryException to refuse.</summary>
    protected virtual OutboundMessage BeforeDelivery(OutboundMessage message) => message;

    public async ValueTask SendAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        switch (message.Kind)
        {
            case OutboundKind.Typing:
                if (!Enabled) return;
                try
                {
                    using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    cts.CancelAfter(PingTimeout);
                    await SendTypingAsync(message, cts.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    // Typing is a courtesy; the reply itself is what must arrive.
                    Logger.LogDebug(ex, "{Platform}: typing action failed", Platform);
                }
                return;
            case OutboundKind.Delta:
                if (!Enabled) return;
                try
                {
                    await OnDeltaAsync(message, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    Logger.LogDebug(ex, "{Platform}: streaming update failed; the final reply will carry the text", Platform);
                }
                return;
            default:
                // Final and Error replies are persisted before we return: from here on they survive a crash.
                OpenStores();
                await Outbox.EnqueueAsync(message, cancellationToken).ConfigureAwait(false);
                return;
        }
    }

    private async Task RunOutboxAsync(CancellationToken cancellationToken)
    {
        var outbox = Outbox;
        while (!cancellationToken.IsCancellationRequested)
        {
            var entry = await outbox.NextAsync(cancellationToken).ConfigureAwait(false);
            await DeliverEntryAsync(outbox, entry, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Delivers one reply, retrying until it is sent or refused for good; never skips ahead (order per user).</summary>
    private async Task DeliverEntryAsync(DurableOutbox outbox, OutboxEntry entry, CancellationToken cancellationToken)
    {
        int round = 0;
        while (true)
        {
            try
            {
                var message = BeforeDelivery(entry.Message);
                var parts = Markup.SplitRendered(message.Text, MessageLimit, Render);
                for (int i = entry.PartsSent; i < parts.Count; i++)
                {
                    int part = i;
                    await Resilience.ExecuteAsync(ct => new ValueTask(DeliverPartAsync(entry, parts[part], part, ct)), cancellationToken).ConfigureAwait(false);
                    if (part < parts.Count - 1) outbox.MarkPartsSent(entry, part + 1);
                }
                outbox.MarkDone(entry);
                ChannelMetrics.Outbound.WithLabels(Platform, "sent").Inc();
                return;
            }
            catch (PermanentDeliveryException ex)
            {
                Logger.LogError("{Platform}: reply to {MessageId} refused for good ({Reason}); kept in {File}",
                    Platform, entry.Message.InReplyTo, ex.Message, outbox.DeadLetterPath);
                outbox.DeadLetter(entry, ex.Message);
                ChannelMetrics.Outbound.WithLabels(Platform, "dead_letter").Inc();
                return;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw; // stays in the outbox file; sent after the next start
            }
            catch (Exception ex)
            {
                round++;
                var wait = TimeSpan.FromMilliseconds(Math.Min(30_000, Options.RetryBaseDelayMilliseconds * Math.Pow(2, Math.Min(round, 10))));
                Logger.LogWarning("{Platform}: reply to {MessageId} not delivered yet ({Error}); retrying after reconnect or in {Wait} ms",
                    Platform, entry.Message.InReplyTo, ex.Message, (int)wait.TotalMilliseconds);
                var delay = Task.Delay(wait, cancellationToken);
                if (State != ChannelState.Connected) await Task.WhenAny(Tracker.WhenConnected, delay).ConfigureAwait(false);
                else await delay.ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
    }

    // ---------- inbound ----------

    /// <summary>The de-duplication key of an envelope: platform message ids are unique per conversation.</summary>
    protected static string SeenKey(Envelope e) => e.Account + "|" + e.ConversationId + "|" + e.PlatformMessageId;

    /// <summary>
    /// For socket and polling adapters: waits for room in the inbound queue (back-pressure). Returns false when the
    /// envelope was seen before (replay); throws <see cref="PipelineClosedException"/> while shutting down.
    /// </summary>
    protected async Task<bool> PublishAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        if (envelope.PlatformMessageId is not null && Seen.Contains(SeenKey(envelope)))
        {
            ChannelMetrics.Inbound.WithLabels(Platform, "duplicate").Inc();
            return false;
        }
        await Inbound.EnqueueAsync(envelope, cancellationToken).ConfigureAwait(false);
        if (envelope.PlatformMessageId is not null) Seen.Add(SeenKey(envelope));
        ChannelMetrics.Inbound.WithLabels(Platform, "accepted").Inc();
        return true;
    }

    /// <summary>For webhooks: never waits; a Full/Closed result must become 503 + Retry-After so the platform retries.</summary>
    protected EnqueueResult TryPublish(Envelope envelope)
    {
        if (envelope.PlatformMessageId is not null && Seen.Contains(SeenKey(envelope)))
        {
            ChannelMetrics.Inbound.WithLabels(Platform, "duplicate").Inc();
            return EnqueueResult.Duplicate;
        }
        var result = Inbound.TryEnqueue(envelope);
        if (result == EnqueueResult.Accepted && envelope.PlatformMessageId is not null) Seen.Add(SeenKey(envelope));
        ChannelMetrics.Inbound.WithLabels(Platform, result switch
        {
            EnqueueResult.Accepted => "accepted",
            EnqueueResult.Duplicate => "duplicate",
            _ => "busy",
        }).Inc();
        return result;
    }

    /// <summary>Webhook platforms: ping the API every PingIntervalSeconds (5 s timeout) and report the outcome as the state.</summary>
    protected async Task PingLoopAsync(Func<CancellationToken, Task> ping, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                cts.CancelAfter(PingTimeout);
                await ping(cts.Token).ConfigureAwait(false);
                Tracker.Set(ChannelState.Connected);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                if (State == ChannelState.Connected) Logger.LogWarning("{Platform}: health ping failed ({Error})", Platform, ex.Message);
                Tracker.Set(ChannelState.Reconnecting);
            }
            await Task.Delay(TimeSpan.FromSeconds(State == ChannelState.Connected ? Options.PingIntervalSeconds : Math.Min(5, Options.PingIntervalSeconds)), cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task GuardAsync(string what, Func<CancellationToken, Task> loop, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await loop(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // A loop that dies silently would leave the platform deaf: log it loudly and start it again.
                Logger.LogError(ex, "{Platform}: {Loop} loop failed; restarting it", Platform, what);
                Tracker.Set(ChannelState.Reconnecting);
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(Options.RetryBaseDelayMilliseconds * 2), cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    protected long NowMs => Clock.GetUtcNow().ToUnixTimeMilliseconds();

    private int _disposed;

    /// <summary>True the first time only: DI hands out one instance under three service types and disposes each.</summary>
    protected bool BeginDispose() => Interlocked.Exchange(ref _disposed, 1) == 0;

    public virtual async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _seen?.Dispose();
        _outbox?.Dispose();
        _lifecycle.Dispose();
        GC.SuppressFinalize(this);
    }
}
