using MoltBot.Contracts.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using MoltBot.Contracts.Inference;
using MoltBot.Inference.Engines;

namespace MoltBot.Tests.Inference;

public class StagedStartupTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The primary NLU model serves while the other models are still loading; /readyz's "models" check is unhealthy
    /// and names what is still loading until the rest arrive; generation waits for the language models; host start-up
    /// completes only once everything is loaded.
    /// </summary>
    [Fact]
    public async Task The_primary_nlu_model_serves_before_the_others_are_loaded_and_readiness_says_so()
    {
        string models = TinyModels.TempDir("staged");
        InferenceHost.WriteModels(models);
        using var host = InferenceHost.Build(models, new() { ["Inference:NluPolicy"] = "student" }, audit: []);
        var registry = host.Services.GetRequiredService<ModelRegistry>();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        registry.SecondaryLoadGate = () => gate.Task;

        var start = host.StartAsync();
        await registry.WhenPrimaryReadyAsync(CancellationToken.None).WaitAsync(Timeout);
        Assert.False(start.IsCompleted);
        Assert.False(registry.IsLoaded);
        Assert.Equal(["student-nlu"], registry.Models.Select(m => m.Id));

        var health = host.Services.GetRequiredService<HealthCheckService>();
        var report = await health.CheckHealthAsync(r => r.Name == "models");
        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        string description = report.Entries["models"].Description!;
        Assert.Contains("loading", description);
        Assert.Contains("teacher-lm", description);
        Assert.Contains("serving: student-nlu", description);

        var nlu = host.Services.GetRequiredService<INluEngine>();
        var parsed = await nlu.ParseAsync("hello there", CancellationToken.None).WaitAsync(Timeout);
        Assert.Equal("student-nlu", parsed.Model);
        Assert.Contains(parsed.Intent, TinyModels.Intents);

        var generator = host.Services.GetRequiredService<ITextGenerator>();
        var request = new GenerationRequest([new("user", "hi")]) { Sampling = new SamplingOptions { MaxNewTokens = 2 } };
        // The first MoveNextAsync runs the generator up to its wait for the language models: a generator that did not
        // wait would fail ("model not loaded") or finish here.
        var tokens = generator.GenerateAsync(request, CancellationToken.None).GetAsyncEnumerator();
        var first = tokens.MoveNextAsync().AsTask();
        Assert.False(first.IsCompleted); // the language models are not loaded yet

        gate.SetResult();
        await start.WaitAsync(Timeout);
        Assert.True(registry.IsLoaded);
        var generated = new List<GeneratedToken>();
        for (bool more = await first.WaitAsync(Timeout); more; more = await tokens.MoveNextAsync()) generated.Add(tokens.Current);
        await tokens.DisposeAsync();
        Assert.NotEmpty(generated);
        Assert.Equal(["teacher-nlu", "student-nlu", "teacher-lm", "student-lm"], registry.Models.Select(m => m.Id));
        report = await health.CheckHealthAsync(r => r.Name == "models");
        Assert.Equal(HealthStatus.Healthy, report.Status);
        // The primary model object carried over into the complete set (not disposed with the partial one).
        Assert.Equal("student-nlu", (await nlu.ParseAsync("hello", CancellationToken.None)).Model);
        await host.StopAsync();
        Directory.Delete(models, true);
    }

    [Fact]
    public async Task A_model_that_fails_after_the_primary_one_is_published_still_stops_start_up()
    {
        string models = TinyModels.TempDir("staged-broken");
        InferenceHost.WriteModels(models);
        File.Delete(Path.Combine(models, "teacher-lm", "config.json"));
        var ex = await Assert.ThrowsAsync<StartupException>(() => InferenceHost.StartAsync(models: models));
        Assert.Contains("teacher-lm", ex.Message);
        Directory.Delete(models, true);
    }
}
