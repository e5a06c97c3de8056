using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using MoltBot.Contracts.Inference;
using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;
using MoltBot.Contracts.Skills;
using MoltBot.Tests.Memory;

namespace MoltBot.Tests.Dialog;

/// <summary>Rule-based NLU with the real intent and entity labels; embeddings from <see cref="HashEmbedder"/>.</summary>
public sealed partial class FakeNlu(HashEmbedder embedder) : INluEngine
{
    private int _calls;

    /// <summary>How many utterances were parsed (slash commands skip NLU).</summary>
    public int Calls => Volatile.Read(ref _calls);

    public Task<NluResult> ParseAsync(string text, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        string t = text.ToLowerInvariant();
        string lang = text.Any(c => c >= '\u4e00' && c <= '\u9fff') ? "zh" : "en";
        var entities = new List<EntitySpan>();
        void Entity(string type, Match m)
        {
            if (m.Success) entities.Add(new EntitySpan(type, m.Groups[1].Value, m.Groups[1].Index, m.Groups[1].Index + m.Groups[1].Length));
        }
        Entity(EntityTypes.DateTime, TimeRx().Match(text));
        Entity(EntityTypes.Location, CityRx().Match(text));

        string intent;
        if (t is "yes" or "yes please" or "sure" or "是" or "好的") intent = Intents.Affirm;
        else if (t is "hello" or "你好") intent = Intents.Greet;
        else if (t is "thanks") intent = Intents.Thanks;
        else if (t is "no" or "nope" or "否" or "不") intent = Intents.Deny;
        else if (t.StartsWith("remember that "))
        {
            intent = Intents.MemoryRemember;
            entities.Add(new EntitySpan(EntityTypes.Fact, text["remember that ".Length..], "remember that ".Length, text.Length));
        }
        else if (t.Contains("remind me") || text.Contains("提醒我"))
        {
            intent = Intents.ReminderCreate;
            var what = ReminderRx().Match(text);
            if (what.Success) entities.Add(new EntitySpan(EntityTypes.ReminderText, what.Groups[1].Value.Trim(), what.Groups[1].Index, what.Groups[1].Index + what.Groups[1].Length));
            if (text.Contains("提醒我")) entities.Add(new EntitySpan(EntityTypes.ReminderText, text[(text.IndexOf("提醒我") + 3)..], 0, 0));
        }
        else if (t.Contains("weather")) intent = Intents.WeatherQuery;
        else if (t.StartsWith("what is my") || t.StartsWith("what's my")) intent = Intents.MemoryRecall;
        else if (entities.Any(e => e.Type == EntityTypes.DateTime)) intent = Intents.TimeQuery;
        else intent = Intents.Smalltalk;
        return Task.FromResult(new NluResult(intent, 0.9f, entities, lang) { Model = "fake-nlu", Embedding = embedder.Embed(text) });
    }

    [GeneratedRegex(@"\b(at \d{1,2}(?::\d\d)?\s*(?:am|pm)?|tomorrow)\b", RegexOptions.IgnoreCase)]
    private static partial Regex TimeRx();

    [GeneratedRegex(@"\bin ([A-Z][a-z]+)")]
    private static partial Regex CityRx();

    [GeneratedRegex(@"remind me to (.+?)(?: at \d| tomorrow|$)", RegexOptions.IgnoreCase)]
    private static partial Regex ReminderRx();
}

/// <summary>Two skills with required slots, matched by intent; records every execution.</summary>
public sealed class FakeSkills : ISkillDispatcher
{
    public static readonly SkillManifest Reminder = new()
    {
        Id = "reminder",
        Description = "create a reminder",
        Descriptions = new Dictionary<string, string> { ["en"] = "create a reminder", ["zh"] = "创建提醒" },
        Triggers = new SkillTriggers { Intents = [Intents.ReminderCreate] },
        RequiredSlots =
        [
            new SlotRequirement(EntityTypes.ReminderText, new Dictionary<string, string> { ["en"] = "What should I remind you about?", ["zh"] = "要提醒你什么？" }),
            new SlotRequirement(EntityTypes.DateTime, new Dictionary<string, string> { ["en"] = "When should I remind you?", ["zh"] = "什么时候提醒你？" }),
        ],
    };

    public static readonly SkillManifest Weather = new()
    {
        Id = "weather",
        Description = "weather",
        Triggers = new SkillTriggers { Intents = [Intents.WeatherQuery] },
        RequiredSlots = [new SlotRequirement(EntityTypes.Location, new Dictionary<string, string> { ["en"] = "Which city?", ["zh"] = "哪个城市？" })],
    };

    public List<(string SkillId, SkillContext Context)> Executed { get; } = new();

    public IReadOnlyList<SkillManifest> Skills { get; } = [Reminder, Weather];

    public SkillManifest? Match(string text, NluResult nlu) => Skills.FirstOrDefault(s => s.Triggers.Intents.Contains(nlu.Intent));

    public Task<SkillResult> ExecuteAsync(string skillId, SkillContext context, CancellationToken cancellationToken)
    {
        Executed.Add((skillId, context));
        var s = context.Slots;
        return Task.FromResult(skillId switch
        {
            "reminder" => SkillResult.Say(context.Language == "zh" ? $"已设置提醒：{s[EntityTypes.ReminderText]}，{s[EntityTypes.DateTime]}" : $"Reminder set: {s[EntityTypes.ReminderText]} {s[EntityTypes.DateTime]}"),
            "weather" => SkillResult.Say($"Sunny in {s[EntityTypes.Location]}"),
            _ => new SkillResult { Succeeded = false, Text = "unknown skill" },
        });
    }
}

/// <summary>Streams a fixed reply token by token and records every request.</summary>
public sealed class FakeGenerator : ITextGenerator
{
    public List<GenerationRequest> Requests { get; } = new();

    public string[] Tokens { get; set; } = ["Nice", " to", " hear", "!"];

    public async IAsyncEnumerable<GeneratedToken> GenerateAsync(GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Requests.Add(request);
        for (int i = 0; i < Tokens.Length; i++)
        {
            await Task.Yield();
            yield return new GeneratedToken(Tokens[i], -0.1f) { Model = "student", FinishReason = i == Tokens.Length - 1 ? "stop" : null };
        }
    }
}

public class RecordingReply : IReplyWriter
{
    public List<string> Deltas { get; } = new();
    public Reply? Final { get; private set; }
    public int Typing { get; private set; }
    public bool Completed => Final is not null;

    public ValueTask TypingAsync(CancellationToken cancellationToken)
    {
        Typing++;
        return ValueTask.CompletedTask;
    }

    public ValueTask DeltaAsync(string text, CancellationToken cancellationToken)
    {
        if (Completed) throw new InvalidOperationException("delta after final");
        Deltas.Add(text);
        return ValueTask.CompletedTask;
    }

    public virtual ValueTask FinalAsync(Reply reply, CancellationToken cancellationToken)
    {
        if (Completed) throw new InvalidOperationException("second final");
        Final = reply;
        return ValueTask.CompletedTask;
    }
}

public sealed class RecordingObserver : IPipelineObserver
{
    public List<string> Stages { get; } = new();

    public void OnStage(string platform, string conversationId, string stage, TimeSpan elapsed)
    {
        lock (Stages) Stages.Add(stage);
    }
}
