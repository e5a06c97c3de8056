using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Inference;

namespace MoltBot.Inference.Engines;

/// <summary>
/// ITextGenerator over the teacher and student decode loops with the configured dual-engine policy:
/// "escalate" (student reply kept unless its mean token log-probability is below the threshold, then the teacher
/// answers), "speculative" (student drafts, teacher verifies; greedy requests only), "student" or "teacher".
/// A request's Model ("student"/"teacher") overrides the policy.
/// </summary>
internal sealed class TextGenerator(ModelRegistry registry, IOptions<InferenceOptions> options, ModelAudit audit, ILogger<TextGenerator> logger)
    : ITextGenerator
{
    public async IAsyncEnumerable<GeneratedToken> GenerateAsync(GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Messages.Count == 0) throw new ArgumentException("a generation request needs at least one message");
        var sampling = request.Sampling;
        if (sampling.MaxNewTokens <= 0) throw new ArgumentException("Sampling.MaxNewTokens must be > 0");
        // The language models load after the primary NLU model at start-up; a request that comes first waits.
        await registry.WhenLoadedAsync(cancellationToken);
        var set = registry.Acquire();
        try
        {
            var o = options.Value;
            var student = set.StudentLoop;
            var teacher = set.TeacherLoop;
            if (student is null && teacher is null) throw new InvalidOperationException("no language model is loaded (see /readyz)");
            string mode = request.Model switch
            {
                "student" => student is not null ? "student" : throw new InvalidOperationException("the student LM is not loaded"),
                "teacher" => teacher is not null ? "teacher" : throw new InvalidOperationException("the teacher LM is not loaded"),
                _ when student is null => "teacher",
                _ when teacher is null => "student",
                _ => o.LmPolicy,
            };
            if (mode == "speculative" && (set.Speculative is null || sampling.Temperature > 0)) mode = "teacher";
            var sw = Stopwatch.StartNew();
            switch (mode)
            {
                case "escalate":
                {
                    var studentTokens = new List<GeneratedToken>();
                    await foreach (var t in RunAsync(student!, request, cancellationToken)) studentTokens.Add(t);
                    double mean = studentTokens.Count == 0 ? 0 : studentTokens.Average(t => t.LogProb);
                    await AuditAsync(student!, request, studentTokens, sw.Elapsed.TotalMilliseconds);
                    if (mean >= o.LmEscalationMeanLogProb)
                    {
                        foreach (var t in studentTokens) yield return t;
                        yield break;
                    }
                    logger.LogInformation("Student reply mean log-prob {Mean:F2} < {Threshold}: escalating to the teacher", mean, o.LmEscalationMeanLogProb);
                    sw.Restart();
                    var teacherTokens = new List<GeneratedToken>();
                    await foreach (var t in RunAsync(teacher!, request, cancellationToken))
                    {
                        teacherTokens.Add(t);
                        yield return t;
                    }
                    await AuditAsync(teacher!, request, teacherTokens, sw.Elapsed.TotalMilliseconds);
                    yield break;
                }
                case "speculative":
                {
                    var tokens = new List<GeneratedToken>();
                    await foreach (var t in SpeculativeAsync(set, teacher!, request, cancellationToken))
                    {
                        tokens.Add(t);
                        yield return t;
                    }
                    await AuditAsync(teacher!, request, tokens, sw.Elapsed.TotalMilliseconds, "model.generate.speculative");
                    yield break;
                }
                default:
                {
                    var loop = mode == "student" ? student! : teacher!;
                    var tokens = new List<GeneratedToken>();
                    await foreach (var t in RunAsync(loop, request, cancellationToken))
                    {
                        tokens.Add(t);
                        yield return t;
                    }
                    await AuditAsync(loop, request, tokens, sw.Elapsed.TotalMilliseconds);
                    yield break;
                }
            }
        }
        finally
        {
            set.Release();
        }
    }

    /// <summary>Prompt ids for the loop's model: chat template, then left-truncated so prompt + reply fit the cache.</summary>
    private static (GenerationJob Job, string Prompt) CreateJob(GenerationLoopInfo model, GenerationRequest request, CancellationToken ct)
    {
        string prompt = model.Template.Render(request.Messages);
        var ids = model.Tokenizer.Encode(prompt);
        int maxNew = Math.Min(request.Sampling.MaxNewTokens, model.MaxLength - 2);
        int room = model.MaxLength - maxNew - 1;
        if (ids.Count > room) ids = ids.Skip(ids.Count - room).ToList();
        if (ids.Count == 0) ids = [model.Config.BosTokenId ?? 0];
        return (new GenerationJob(ids, request.Sampling, maxNew, ct), prompt);
    }

    private static async IAsyncEnumerable<GeneratedToken> RunAsync(GenerationLoop loop, GenerationRequest request,
        [EnumeratorCancellation] CancellationToken ct)
    {
        var (job, _) = CreateJob(new GenerationLoopInfo(loop.Model, loop.MaxLength), request, ct);
        if (!await loop.SubmitAsync(job, ct)) throw new InvalidOperationException($"model '{loop.Id}' is being reloaded; retry");
        await foreach (var t in job.Output.Reader.ReadAllAsync(ct)) yield return t;
    }

    private static async IAsyncEnumerable<GeneratedToken> SpeculativeAsync(ModelSet set, GenerationLoop teacher, GenerationRequest request,
        [EnumeratorCancellation] CancellationToken ct)
    {
        var spec = set.Speculative!;
        var (job, _) = CreateJob(new GenerationLoopInfo(teacher.Model, spec.MaxLength), request, ct);
        var run = spec.RunAsync(job, teacher.Id);
        await foreach (var t in job.Output.Reader.ReadAllAsync(ct)) yield return t;
        await run;
    }

    private async Task AuditAsync(GenerationLoop loop, GenerationRequest request, List<GeneratedToken> tokens, double ms, string action = "model.generate")
    {
        string prompt = loop.Model.Template.Render(request.Messages);
        string output = string.Concat(tokens.Select(t => t.Text));
        await audit.AppendAsync(action, loop.Id, prompt, output, loop.Model.Tokenizer.CountTokens(prompt), tokens.Count, ms,
            tokens.LastOrDefault()?.FinishReason ?? "empty");
    }

    private sealed record GenerationLoopInfo(Models.LoadedDecoder Model, int MaxLength)
    {
        public Tokenization.ChatTemplate Template => Model.Template;
        public Tokenization.TextTokenizer Tokenizer => Model.Tokenizer;
        public Models.DecoderConfig Config => Model.Config;
    }
}
