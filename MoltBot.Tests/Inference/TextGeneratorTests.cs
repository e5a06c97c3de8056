using MoltBot.Contracts.Inference;

namespace MoltBot.Tests.Inference;

public class TextGeneratorTests
{
    private static readonly ChatMessage[] Hello = [new("user", "hello there")];

    private static async Task<List<GeneratedToken>> Collect(ITextGenerator gen, GenerationRequest request, CancellationToken ct = default)
    {
        var list = new List<GeneratedToken>();
        await foreach (var t in gen.GenerateAsync(request, ct)) list.Add(t);
        return list;
    }

    private static GenerationRequest Greedy(ChatMessage[] messages, string model, int max = 12) =>
        new(messages) { Model = model, Sampling = new SamplingOptions { MaxNewTokens = max } };

    [Fact]
    public async Task Speculative_greedy_output_equals_teacher_greedy_output()
    {
        await using var host = await InferenceHost.StartAsync(new() { ["Inference:LmPolicy"] = "speculative", ["Inference:SpeculativeDraftTokens"] = "3" });
        var gen = host.Services.GetRequiredService<ITextGenerator>();
        foreach (var prompt in new[] { "hello there", "the weather", "tell me a story about a cat" })
        {
            ChatMessage[] msgs = [new("user", prompt)];
            var teacher = await Collect(gen, Greedy(msgs, "teacher", 20));
            var speculative = await Collect(gen, Greedy(msgs, "auto", 20));
            Assert.Equal(teacher.Select(t => t.TokenId), speculative.Select(t => t.TokenId));
            Assert.Equal(string.Concat(teacher.Select(t => t.Text)), string.Concat(speculative.Select(t => t.Text)));
            Assert.All(speculative, t => Assert.Equal("teacher-lm", t.Model));
            Assert.NotNull(speculative[^1].FinishReason);
        }
        Assert.Contains(host.Audit, e => e.Action == "model.generate.speculative");
    }

    [Fact]
    public async Task Concurrent_requests_batched_together_equal_each_request_alone()
    {
        await using var host = await InferenceHost.StartAsync(new() { ["Inference:LmMaxBatch"] = "3", ["Inference:LmPolicy"] = "student" });
        var gen = host.Services.GetRequiredService<ITextGenerator>();
        string[] prompts = ["a", "hello", "the weather today", "hi there friend", "x y z"];
        var alone = new List<int[]>();
        foreach (var p in prompts) alone.Add((await Collect(gen, Greedy([new("user", p)], "teacher", 10 + p.Length))).Select(t => t.TokenId).ToArray());
        // Five at once with three slots: sequences join and leave the running batch between steps.
        var together = await Task.WhenAll(prompts.Select(p => Collect(gen, Greedy([new("user", p)], "teacher", 10 + p.Length))));
        for (int i = 0; i < prompts.Length; i++) Assert.Equal(alone[i], together[i].Select(t => t.TokenId).ToArray());
    }

    [Fact]
    public async Task Sampling_is_reproducible_with_a_seed_and_honours_max_tokens_stop_and_cancellation()
    {
        await using var host = await InferenceHost.StartAsync(new() { ["Inference:LmPolicy"] = "student" });
        var gen = host.Services.GetRequiredService<ITextGenerator>();
        var sampling = new SamplingOptions { Temperature = 1.2f, TopK = 50, TopP = 0.95f, RepetitionPenalty = 1.1f, MaxNewTokens = 15, Seed = 42 };
        var a = await Collect(gen, new GenerationRequest(Hello) { Sampling = sampling });
        var b = await Collect(gen, new GenerationRequest(Hello) { Sampling = sampling });
        var c = await Collect(gen, new GenerationRequest(Hello) { Sampling = sampling with { Seed = 7 } });
        Assert.Equal(a.Select(t => t.TokenId), b.Select(t => t.TokenId));
        Assert.NotEqual(a.Select(t => t.TokenId), c.Select(t => t.TokenId));
        Assert.All(a, t => Assert.True(t.LogProb <= 0));

        var limited = await Collect(gen, Greedy(Hello, "student", 4) with { Sampling = new SamplingOptions { MaxNewTokens = 4, Seed = 1, Temperature = 1f } });
        Assert.True(limited.Count <= 4);
        Assert.Contains(limited[^1].FinishReason, new[] { "length", "stop" });

        // Stop string: the first ASCII character of the greedy reply that does not occur earlier ends it there.
        var full = string.Concat((await Collect(gen, Greedy(Hello, "student", 30))).Select(t => t.Text));
        int cut = Enumerable.Range(1, Math.Max(0, full.Length - 1))
            .First(i => full[i] is > ' ' and < '\u007f' && full.IndexOf(full[i]) == i);
        var stopped = await Collect(gen, Greedy(Hello, "student", 30) with { Sampling = new SamplingOptions { MaxNewTokens = 30, Stop = [full[cut].ToString()] } });
        Assert.Equal(full[..cut], string.Concat(stopped.Select(t => t.Text)));
        Assert.Equal("stop", stopped[^1].FinishReason);

        using var cts = new CancellationTokenSource();
        var received = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in gen.GenerateAsync(Greedy(Hello, "teacher", 100), cts.Token))
                if (++received == 2) await cts.CancelAsync();
        });
        // The cancelled sequence gave its slot back: more requests than slots still complete.
        var after = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Collect(gen, Greedy(Hello, "teacher", 3))));
        Assert.All(after, r => Assert.NotNull(r[^1].FinishReason));
    }

    [Theory]
    [InlineData("0", "teacher-lm")]    // every reply has mean log-prob < 0: the teacher answers
    [InlineData("-100", "student-lm")] // never escalates
    public async Task Escalation_policy_uses_the_mean_log_probability_threshold(string threshold, string expected)
    {
        await using var host = await InferenceHost.StartAsync(new() { ["Inference:LmPolicy"] = "escalate", ["Inference:LmEscalationMeanLogProb"] = threshold });
        var gen = host.Services.GetRequiredService<ITextGenerator>();
        var reply = await Collect(gen, Greedy(Hello, "auto", 6));
        Assert.All(reply, t => Assert.Equal(expected, t.Model));
        var entries = host.Audit.Where(e => e.Action == "model.generate").ToList();
        Assert.NotEmpty(entries);
        Assert.All(entries, e =>
        {
            Assert.Equal(64, e.InputHash!.Length);
            Assert.True(e.InputTokens > 0);
            Assert.DoesNotContain("hello", e.InputHash + e.OutputHash + e.Target);
        });
    }
}
