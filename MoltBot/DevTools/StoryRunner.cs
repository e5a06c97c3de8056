using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using MoltBot.Contracts.Inference;
using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;

namespace MoltBot.DevTools;

/// <summary>A conversation test: user turns with the intent, slots and reply pattern expected for each.</summary>
public sealed record Story
{
    public required string Name { get; init; }
    public string? Language { get; init; }
    public required IReadOnlyList<StoryStep> Steps { get; init; }
}

/// <param name="User">What the user says.</param>
/// <param name="Intent">Expected NLU intent (optional).</param>
/// <param name="Slots">Expected entities: type → value (optional; each listed one must be found).</param>
/// <param name="Reply">Regular expression the reply must match (optional).</param>
public sealed record StoryStep(string User, string? Intent = null, IReadOnlyDictionary<string, string>? Slots = null, string? Reply = null);

/// <summary>
/// Runs story files (JSON: {"stories": [...]}) against the current build: each story is a fresh user in a fresh
/// data directory; each step checks NLU (through INluEngine) and the reply (through the dialog manager).
/// Used by `moltbot test-stories DIR` (exit 1 on any failure), so conversation tests run in CI.
/// </summary>
public sealed class StoryRunner
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    public sealed record StepResult(string Story, int Step, string User, bool Passed, IReadOnlyList<string> Failures, string Reply);

    public static async Task<IReadOnlyList<(string File, Story Story)>> LoadAsync(string path, CancellationToken cancellationToken)
    {
        var files = Directory.Exists(path)
            ? Directory.GetFiles(path, "*.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray()
            : File.Exists(path) ? [path] : throw new FileNotFoundException($"stories '{path}' not found (a .json file or a folder of them)");
        var stories = new List<(string, Story)>();
        foreach (var file in files)
        {
            await using var stream = File.OpenRead(file);
            foreach (var s in await ParseAsync(stream, file, cancellationToken)) stories.Add((file, s));
        }
        return stories;
    }

    /// <summary>One story file's stories, checked (steps present, reply patterns compile); <paramref name="file"/> names it in errors.</summary>
    public static async Task<IReadOnlyList<Story>> ParseAsync(Stream stream, string file, CancellationToken cancellationToken)
    {
        StoryFile? parsed;
        try
        {
            parsed = await JsonSerializer.DeserializeAsync<StoryFile>(stream, Json, cancellationToken);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{file}: not a story file ({ex.Message})", ex);
        }
        if (parsed?.Stories is not { Count: > 0 }) throw new InvalidDataException($"{file}: no stories (expected {{\"stories\": [...]}})");
        foreach (var s in parsed.Stories)
        {
            if (s.Steps.Count == 0) throw new InvalidDataException($"{file}: story '{s.Name}' has no steps");
            foreach (var step in s.Steps.Where(st => st.Reply is not null))
            {
                try { _ = new Regex(step.Reply!); }
                catch (ArgumentException ex) { throw new InvalidDataException($"{file}: story '{s.Name}': bad reply pattern '{step.Reply}': {ex.Message}", ex); }
            }
        }
        return parsed.Stories;
    }

    public async Task<IReadOnlyList<StepResult>> RunAsync(IReadOnlyList<(string File, Story Story)> stories, string[] hostArgs,
        CancellationToken cancellationToken, Action<WebApplicationBuilder>? configure = null)
    {
        var results = new List<StepResult>();
        return await OfflineHost.RunAsync(hostArgs, null, configure, async services =>
        {
            var handler = services.GetRequiredService<IMessageHandler>();
            var nlu = services.GetService<INluEngine>();
            var clock = services.GetRequiredService<TimeProvider>();
            int storyIndex = 0;
            foreach (var (_, story) in stories)
            {
                string user = $"story-{++storyIndex}";
                for (int i = 0; i < story.Steps.Count; i++)
                {
                    var step = story.Steps[i];
                    var failures = new List<string>();
                    if (step.Intent is not null || step.Slots is not null)
                    {
                        if (nlu is null) failures.Add("no NLU engine is registered in this build");
                        else CheckNlu(await nlu.ParseAsync(step.User, cancellationToken).ConfigureAwait(false), step, failures);
                    }
                    var envelope = new Envelope
                    {
                        Id = $"{user}-{i}", Platform = Platforms.Cli, ConversationId = user, UserId = user, Text = step.User,
                        Language = story.Language, TimestampMs = clock.GetUtcNow().ToUnixTimeMilliseconds(),
                    };
                    var reply = new ReplyCollector();
                    await handler.HandleAsync(envelope, reply, cancellationToken).ConfigureAwait(false);
                    string text = reply.Final?.Text ?? "";
                    if (reply.Final is null) failures.Add("no final reply");
                    else if (step.Reply is not null && !Regex.IsMatch(text, step.Reply))
                        failures.Add($"reply \"{text}\" does not match /{step.Reply}/");
                    results.Add(new StepResult(story.Name, i + 1, step.User, failures.Count == 0, failures, text));
                }
            }
        }, _ => Task.FromResult<IReadOnlyList<StepResult>>(results), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Adds a failure for each expectation of the step (intent, slots) the NLU result does not meet.</summary>
    internal static void CheckNlu(NluResult result, StoryStep step, List<string> failures)
    {
        if (step.Intent is not null && result.Intent != step.Intent)
            failures.Add($"intent {result.Intent} ({result.Confidence:F2}), expected {step.Intent}");
        foreach (var (type, value) in step.Slots ?? new Dictionary<string, string>())
        {
            if (!result.Entities.Any(e => e.Type == type && string.Equals(e.Value.Trim(), value.Trim(), StringComparison.OrdinalIgnoreCase)))
                failures.Add($"slot {type}=\"{value}\" not found (got {string.Join(", ", result.Entities.Select(e => $"{e.Type}=\"{e.Value}\""))})");
        }
    }

    private sealed record StoryFile(IReadOnlyList<Story> Stories);
}
