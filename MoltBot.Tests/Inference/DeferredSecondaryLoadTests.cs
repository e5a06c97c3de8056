using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using MoltBot.Contracts.Configuration;
using MoltBot.Contracts.Inference;
using MoltBot.Contracts.Pipeline;
using MoltBot.Inference.Engines;

namespace MoltBot.Tests.Inference;

/// <summary>
/// Inference:SecondaryLoadDelayMs: after the primary NLU model, the other models wait for the first reply, a request
/// that needs one of them, or the delay — whichever comes first — and start-up still completes only once all are loaded.
/// </summary>
public sealed class DeferredSecondaryLoadTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    /// <summary>Long enough that only a request or a reply can start the loads within a test.</summary>
    private const string Never = "600000";

    // Each test gets its own folder of the four tiny models (xunit builds one instance per test), deleted even when it fails.
    private readonly string models = TinyModels.TempDir("deferred");

    public DeferredSecondaryLoadTests() => InferenceHost.WriteModels(models);

    public void Dispose()
    {
        try { Directory.Delete(models, true); } catch (IOException) { }
    }

    /// <summary>A host whose secondary loads wait for a request or the first reply (<paramref name="settings"/> add to that).</summary>
    private IHost WaitingHost(Dictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?>(settings ?? []) { ["Inference:SecondaryLoadDelayMs"] = Never };
        return InferenceHost.Build(models, all, audit: []);
    }

    [Fact]
    public async Task A_request_that_needs_the_teacher_while_it_waits_is_served_once_the_teacher_is_loaded()
    {
        using var host = WaitingHost(new()
        {
            ["Inference:NluPolicy"] = "escalate",
            ["Inference:NluEscalationThreshold"] = "1", // every student result escalates
        });
        var registry = host.Services.GetRequiredService<ModelRegistry>();
        var start = host.StartAsync();
        await registry.WhenPrimaryReadyAsync(CancellationToken.None).WaitAsync(Timeout);

        // Nothing asked for the other models (asking is synchronous, and the idle delay is ten minutes): they do not
        // load, start-up waits for them, readiness says so.
        Assert.False(registry.SecondaryLoadsRequested);
        Assert.False(registry.SecondaryLoadsStarted.IsCompleted);
        Assert.False(start.IsCompleted);
        Assert.Equal(["student-nlu"], registry.Models.Select(m => m.Id));
        var health = host.Services.GetRequiredService<HealthCheckService>();
        var report = await health.CheckHealthAsync(r => r.Name == "models");
        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        Assert.Contains("teacher-nlu", report.Entries["models"].Description!);

        // The student answers below the threshold: the escalation asks for the teacher and gets its answer.
        var result = await host.Services.GetRequiredService<INluEngine>().ParseAsync("hello there", CancellationToken.None).WaitAsync(Timeout);
        Assert.True(result.Escalated);
        Assert.Equal("teacher-nlu", result.Model);
        Assert.True(registry.SecondaryLoadsRequested);

        await start.WaitAsync(Timeout);
        Assert.True(registry.IsLoaded);
        Assert.Equal(["teacher-nlu", "student-nlu", "teacher-lm", "student-lm"], registry.Models.Select(m => m.Id));
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync(r => r.Name == "models")).Status);
        await host.StopAsync();
    }

    /// <summary>
    /// SIGTERM during start-up (here: the start is cancelled, then the host stops) while the secondary models wait:
    /// they are not loaded any more, and the stop returns once the start-up load has ended — no thread is left inside
    /// libtorch when the process exits (exiting under a running load crashed in libtorch's teardown).
    /// </summary>
    [Fact]
    public async Task A_host_stopped_before_the_secondary_loads_began_skips_them_and_waits_for_the_load_to_end()
    {
        using var host = WaitingHost();
        var registry = host.Services.GetRequiredService<ModelRegistry>();
        using var cancelStart = new CancellationTokenSource();
        var start = host.StartAsync(cancelStart.Token);
        await registry.WhenPrimaryReadyAsync(CancellationToken.None).WaitAsync(Timeout);
        Assert.False(registry.SecondaryLoadsStarted.IsCompleted);

        await cancelStart.CancelAsync();
        try { await start.WaitAsync(Timeout); } catch (OperationCanceledException) { }
        await host.StopAsync().WaitAsync(Timeout);

        Assert.True(registry.SecondaryLoadsSkippedAtStop);
        Assert.False(registry.SecondaryLoadsStarted.IsCompleted);
        Assert.True(registry.Loaded.IsCanceled);
        Assert.Equal(["student-nlu"], registry.Models.Select(m => m.Id));
    }

    /// <summary>
    /// A start that fails in another module never runs the hosted services' StopAsync: the host is disposed straight
    /// away. Disposing must still keep the deferred loads from beginning and wait for the start-up load, or a thread
    /// goes on loading models (and writing logs into the data folder) after the host is gone.
    /// </summary>
    [Fact]
    public async Task A_host_disposed_without_stopping_skips_the_deferred_loads_and_waits_for_the_load_to_end()
    {
        var host = WaitingHost();
        var registry = host.Services.GetRequiredService<ModelRegistry>();
        _ = registry.StartLoading(); // as the host does once the provider is built, before any hosted service starts
        await registry.WhenPrimaryReadyAsync(CancellationToken.None).WaitAsync(Timeout);
        Assert.False(registry.SecondaryLoadsStarted.IsCompleted);

        await ((IAsyncDisposable)host).DisposeAsync().AsTask().WaitAsync(Timeout);

        Assert.True(registry.StartupLoadEnded.IsCompleted);
        Assert.True(registry.SecondaryLoadsSkippedAtStop);
        Assert.False(registry.SecondaryLoadsStarted.IsCompleted);
        Assert.True(registry.Loaded.IsCanceled);
    }

    [Fact]
    public async Task Generation_while_the_language_models_wait_starts_their_load_and_gets_its_tokens()
    {
        using var host = WaitingHost(new() { ["Inference:LmPolicy"] = "student" });
        var registry = host.Services.GetRequiredService<ModelRegistry>();
        var start = host.StartAsync();
        await registry.WhenPrimaryReadyAsync(CancellationToken.None).WaitAsync(Timeout);
        Assert.False(registry.SecondaryLoadsStarted.IsCompleted);

        var request = new GenerationRequest([new("user", "hi")]) { Sampling = new SamplingOptions { MaxNewTokens = 2 } };
        var tokens = new List<GeneratedToken>();
        await foreach (var t in host.Services.GetRequiredService<ITextGenerator>().GenerateAsync(request, CancellationToken.None).WithCancellation(new CancellationTokenSource(Timeout).Token))
            tokens.Add(t);
        Assert.NotEmpty(tokens);
        await start.WaitAsync(Timeout);
        Assert.True(registry.IsLoaded);
        await host.StopAsync();
    }

    /// <summary>The pipeline reports each sent reply as the "total" stage; the first one starts the loads, other stages do not.</summary>
    [Fact]
    public async Task The_first_reply_sent_starts_the_secondary_loads()
    {
        using var host = WaitingHost();
        var registry = host.Services.GetRequiredService<ModelRegistry>();
        var observer = Assert.Single(host.Services.GetServices<IPipelineObserver>().OfType<SecondaryLoadsAfterFirstReply>());
        var start = host.StartAsync();
        await registry.WhenPrimaryReadyAsync(CancellationToken.None).WaitAsync(Timeout);

        observer.OnStage("webchat", "c1", Stages.Nlu, TimeSpan.FromMilliseconds(1));
        observer.OnStage("webchat", "c1", Stages.Send, TimeSpan.FromMilliseconds(1));
        // OnStage asks for the loads synchronously when it does: no wait needed to see that these stages did not.
        Assert.False(registry.SecondaryLoadsRequested);
        Assert.False(registry.SecondaryLoadsStarted.IsCompleted);

        observer.OnStage("webchat", "c1", Stages.Total, TimeSpan.FromMilliseconds(5));
        await start.WaitAsync(Timeout);
        Assert.True(registry.SecondaryLoadsRequested);
        Assert.True(registry.IsLoaded);
        observer.OnStage("webchat", "c1", Stages.Total, TimeSpan.FromMilliseconds(5)); // later replies: nothing more to do
        await host.StopAsync();
    }

    /// <summary>
    /// Inference:ReleaseStartupCodePages: libtorch's start-up code pages go back to the kernel when the other models
    /// start loading (so they are not resident during the loads, the start-up peak) and again once every model is in;
    /// not while the first reply is still waiting, and never with the option off.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Start_up_code_pages_are_released_before_the_secondary_loads_and_after_them(bool release)
    {
        using var host = WaitingHost(new() { ["Inference:ReleaseStartupCodePages"] = release ? "true" : "false" });
        var registry = host.Services.GetRequiredService<ModelRegistry>();
        var observer = Assert.Single(host.Services.GetServices<IPipelineObserver>().OfType<SecondaryLoadsAfterFirstReply>());
        var start = host.StartAsync();
        await registry.WhenPrimaryReadyAsync(CancellationToken.None).WaitAsync(Timeout);
        Assert.Empty(registry.CodePageReleases); // the loads wait for the first reply (the delay is ten minutes)

        observer.OnStage("webchat", "c1", Stages.Total, TimeSpan.FromMilliseconds(5));
        await start.WaitAsync(Timeout);
        Assert.True(registry.IsLoaded);
        Assert.Equal(release ? ["before the other models load", "every model loaded"] : [], registry.CodePageReleases);
        await host.StopAsync();
    }

    [Fact]
    public async Task Without_any_reply_the_delay_starts_the_secondary_loads()
    {
        using var host = InferenceHost.Build(models, new() { ["Inference:SecondaryLoadDelayMs"] = "200" }, audit: []);
        var registry = host.Services.GetRequiredService<ModelRegistry>();
        await host.StartAsync().WaitAsync(Timeout);
        Assert.True(registry.IsLoaded);
        Assert.False(registry.SecondaryLoadsRequested); // the delay, not a request
        Assert.Equal(4, registry.Models.Count);
        await host.StopAsync();
    }

    [Fact]
    public async Task A_broken_secondary_model_still_stops_start_up_when_its_load_was_deferred()
    {
        File.Delete(Path.Combine(models, "student-lm", "config.json"));
        var ex = await Assert.ThrowsAsync<StartupException>(() =>
            InferenceHost.StartAsync(new() { ["Inference:SecondaryLoadDelayMs"] = "200" }, models).WaitAsync(Timeout));
        Assert.Contains("student-lm", ex.Message);
    }
}
