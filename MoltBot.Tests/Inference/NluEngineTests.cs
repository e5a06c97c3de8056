using MoltBot.Contracts.Inference;

namespace MoltBot.Tests.Inference;

public class NluEngineTests
{
    private static readonly string[] Utterances =
    [
        "hello", "what is the weather in Paris tomorrow", "bye", "remind me to call mom at 5pm", "thanks a lot",
        "你好", "tell me a joke", "what time is it", "cancel my reminder", "who are you",
    ];

    /// <summary>
    /// On the FP32 teacher batched equals single to float precision. (The INT8 student quantizes activations per
    /// batch, so its numbers move slightly with the batch's content.)
    /// </summary>
    [Fact]
    public async Task Concurrent_requests_are_micro_batched_and_equal_single_requests()
    {
        await using var host = await InferenceHost.StartAsync(new() { ["Inference:NluPolicy"] = "teacher", ["Inference:NluMaxWaitMs"] = "5" });
        var nlu = host.Services.GetRequiredService<INluEngine>();
        var single = new List<NluResult>();
        foreach (var u in Utterances) single.Add(await nlu.ParseAsync(u, CancellationToken.None));
        var batched = await Task.WhenAll(Utterances.Select(u => nlu.ParseAsync(u, CancellationToken.None)));
        for (int i = 0; i < Utterances.Length; i++)
        {
            Assert.Equal(single[i].Intent, batched[i].Intent);
            Assert.Equal(single[i].Confidence, batched[i].Confidence, 4);
            Assert.Equal(single[i].Embedding!, batched[i].Embedding!, (x, y) => Math.Abs(x - y) < 1e-4);
            Assert.Equal(single[i].Entities, batched[i].Entities);
            Assert.Contains(batched[i].Intent, TinyModels.Intents);
            Assert.Equal("teacher-nlu", batched[i].Model);
            Assert.Equal(1.0, Math.Sqrt(batched[i].Embedding!.Sum(v => (double)v * v)), 4);
            foreach (var e in batched[i].Entities) Assert.Equal(Utterances[i][e.Start..e.End], e.Value);
        }
        Assert.Equal("zh", batched[5].Language);
        Assert.Equal("en", batched[0].Language);
        var embedder = host.Services.GetRequiredService<ISentenceEmbedder>();
        Assert.Equal(16, embedder.Dimension);
        Assert.Equal(batched[1].Embedding!, await embedder.EmbedAsync(Utterances[1], CancellationToken.None), (x, y) => Math.Abs(x - y) < 1e-4);
    }

    /// <summary>
    /// NluInline: a request that finds the engine idle runs on the caller's thread, with the same answer as through the
    /// worker's queue; with the option off every request goes through the queue.
    /// </summary>
    [Fact]
    public async Task A_lone_request_runs_on_the_callers_thread_with_the_same_answer_as_through_the_queue()
    {
        await using var inline = await InferenceHost.StartAsync(new() { ["Inference:NluPolicy"] = "teacher", ["Inference:NluInline"] = "true" });
        await using var queued = await InferenceHost.StartAsync(new() { ["Inference:NluPolicy"] = "teacher", ["Inference:NluInline"] = "false" });
        var a = inline.Services.GetRequiredService<MoltBot.Inference.Engines.NluEngine>();
        var b = queued.Services.GetRequiredService<MoltBot.Inference.Engines.NluEngine>();
        long before = a.InlineRuns;
        int audited = inline.Audit.Count(e => e.Action == "model.nlu");
        foreach (var u in Utterances)
        {
            var x = await a.ParseAsync(u, CancellationToken.None);
            var y = await b.ParseAsync(u, CancellationToken.None);
            Assert.Equal(y.Intent, x.Intent);
            Assert.Equal(y.Confidence, x.Confidence, 4);
            Assert.Equal(y.Embedding!, x.Embedding!, (p, q) => Math.Abs(p - q) < 1e-4);
            Assert.Equal(y.Entities, x.Entities);
        }
        Assert.Equal(Utterances.Length, a.InlineRuns - before);
        Assert.Equal(0, b.InlineRuns);
        // Every request still leaves its audit entry.
        Assert.Equal(Utterances.Length, inline.Audit.Count(e => e.Action == "model.nlu") - audited);
    }

    /// <summary>
    /// A small row budget cuts one micro-batch of mixed lengths into several length-sorted forward passes: every caller
    /// still gets the result of its own utterance (equal to asking alone), and every request leaves one audit entry.
    /// </summary>
    [Fact]
    public async Task Length_buckets_return_each_caller_its_own_result()
    {
        await using var host = await InferenceHost.StartAsync(new()
        {
            ["Inference:NluPolicy"] = "teacher", ["Inference:NluMaxWaitMs"] = "20", ["Inference:NluChunkTokens"] = "16",
        });
        var nlu = host.Services.GetRequiredService<INluEngine>();
        string[] texts = [.. Utterances, "set a reminder for the meeting with the design team next Thursday at 10", "ok", "weather in 北京"];
        var single = new List<NluResult>();
        foreach (var u in texts) single.Add(await nlu.ParseAsync(u, CancellationToken.None));
        int before = host.Audit.Count(e => e.Action == "model.nlu");
        // Longest first, so arrival order differs from the buckets' (length) order.
        var order = Enumerable.Range(0, texts.Length).OrderByDescending(i => texts[i].Length).ToArray();
        var batched = await Task.WhenAll(order.Select(i => nlu.ParseAsync(texts[i], CancellationToken.None)));
        for (int k = 0; k < order.Length; k++)
        {
            var (s, b) = (single[order[k]], batched[k]);
            Assert.Equal(s.Intent, b.Intent);
            Assert.Equal(s.Confidence, b.Confidence, 4);
            Assert.Equal(s.Entities, b.Entities);
            Assert.Equal(s.Language, b.Language);
            Assert.Equal(s.Embedding!, b.Embedding!, (x, y) => Math.Abs(x - y) < 1e-4);
        }
        Assert.Equal(texts.Length, host.Audit.Count(e => e.Action == "model.nlu") - before);
    }

    /// <summary>
    /// Escalations from concurrent requests are pooled into shared teacher passes: each caller still gets the teacher's
    /// answer for its own utterance (as when it asks alone) and the student's embedding; one audit entry each.
    /// </summary>
    [Fact]
    public async Task Pooled_escalations_return_each_caller_the_teachers_answer_for_its_own_utterance()
    {
        await using var host = await InferenceHost.StartAsync(new()
        {
            ["Inference:NluPolicy"] = "escalate", ["Inference:NluEscalationThreshold"] = "1", ["Inference:NluMaxWaitMs"] = "20",
            ["Inference:NluChunkTokens"] = "64",
        });
        var nlu = host.Services.GetRequiredService<INluEngine>();
        var single = new List<NluResult>();
        foreach (var u in Utterances) single.Add(await nlu.ParseAsync(u, CancellationToken.None));
        int before = host.Audit.Count(e => e.Action == "model.nlu" && e.Outcome == "escalated");
        var order = Enumerable.Range(0, Utterances.Length).Reverse().ToArray();
        var batched = await Task.WhenAll(order.Select(i => nlu.ParseAsync(Utterances[i], CancellationToken.None)));
        for (int k = 0; k < order.Length; k++)
        {
            var (s, b) = (single[order[k]], batched[k]);
            Assert.True(b.Escalated);
            Assert.Equal("teacher-nlu", b.Model);
            Assert.Equal(s.Intent, b.Intent);
            Assert.Equal(s.Confidence, b.Confidence, 4);
            Assert.Equal(s.Entities, b.Entities);
            // The embedding is the INT8 student's, whose activation scales depend on the batch: close, not bit-equal.
            double cosine = s.Embedding!.Zip(b.Embedding!, (x, y) => (double)x * y).Sum();
            Assert.True(cosine > 0.99, $"cosine {cosine} for '{Utterances[order[k]]}'");
        }
        Assert.Equal(Utterances.Length, host.Audit.Count(e => e.Action == "model.nlu" && e.Outcome == "escalated") - before);
    }

    [Fact]
    public async Task Low_confidence_student_answers_escalate_to_the_teacher()
    {
        await using var host = await InferenceHost.StartAsync(new() { ["Inference:NluPolicy"] = "escalate", ["Inference:NluEscalationThreshold"] = "1" });
        var nlu = host.Services.GetRequiredService<INluEngine>();
        var r = await nlu.ParseAsync("hello there", CancellationToken.None);
        Assert.True(r.Escalated);
        Assert.Equal("teacher-nlu", r.Model);
        Assert.Contains(host.Audit, e => e.Action == "model.nlu" && e.Outcome == "escalated");
        var catalog = host.Services.GetRequiredService<IModelCatalog>();
        Assert.Equal(["teacher-nlu", "student-nlu", "teacher-lm", "student-lm"], catalog.Models.Select(m => m.Id));
        Assert.Equal("int8", catalog.Models.Single(m => m.Id == "student-lm").Precision);
        Assert.Equal("fbgemm-int8", catalog.Models.Single(m => m.Id == "student-lm").Kernel);
        // Reload swaps in fresh models while serving.
        await host.Services.GetRequiredService<MoltBot.Contracts.Admin.IModelAdmin>().ReloadAsync(CancellationToken.None);
        Assert.Equal(4, catalog.Models.Count);
        Assert.True((await nlu.ParseAsync("hello", CancellationToken.None)).Confidence > 0);
    }

    /// <summary>
    /// A forming batch waits for more requests on the queue, not in a polling loop: over a 300 ms window the engine reads
    /// the clock a few times per request. (It polled with Task.Delay(0.2 ms), which completes at once: a busy loop that
    /// read the clock hundreds of thousands of times per wait and kept a core spinning.)
    /// </summary>
    [Fact]
    public async Task A_forming_batch_waits_for_more_requests_without_spinning()
    {
        var clock = new CountingClock();
        await using var host = await InferenceHost.StartAsync(new() { ["Inference:NluPolicy"] = "student", ["Inference:NluMaxWaitMs"] = "300" }, time: clock);
        var nlu = host.Services.GetRequiredService<INluEngine>();
        var alone = await nlu.ParseAsync(Utterances[0], CancellationToken.None);

        long before = clock.Reads;
        // Ten at once: the worker takes what is queued and, with more than one, holds the batch open up to 300 ms.
        var results = await Task.WhenAll(Utterances.Select(u => nlu.ParseAsync(u, CancellationToken.None)));
        long reads = clock.Reads - before;

        Assert.Equal(Utterances.Length, results.Length);
        Assert.All(results, r => Assert.Contains(r.Intent, TinyModels.Intents));
        Assert.Equal(alone.Intent, results[0].Intent);
        Assert.True(reads < 500, $"{reads} clock reads for {Utterances.Length} requests");
    }

    /// <summary>The system clock, counting how often its timestamp is read.</summary>
    private sealed class CountingClock : TimeProvider
    {
        private long reads;
        public long Reads => Interlocked.Read(ref reads);

        public override long GetTimestamp()
        {
            Interlocked.Increment(ref reads);
            return System.GetTimestamp();
        }
    }
}
