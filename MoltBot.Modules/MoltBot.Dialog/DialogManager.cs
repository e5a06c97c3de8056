using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using System.Text.Json.Nodes;
using MoltBot.Contracts.Diagnostics;
using MoltBot.Contracts.Inference;
using MoltBot.Contracts.Memory;
using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;
using MoltBot.Contracts.Skills;

namespace MoltBot.Dialog;

/// <summary>
/// The pipeline's message handler. Per turn: NLU → record the message → load the conversation's state and the
/// user's profile → resolve a pending confirmation or clarification, or detect a topic switch → run a skill (asking
/// for missing required slots first, and for a yes/no where configured) or generate a reply from the context window
/// → persist dialog events, reply and state, all with ms UTC timestamps. The turn's writes are awaited together,
/// once, and the final reply is sent only after its messages and dialog events are durable in the event log (the
/// LiteDB side is written behind by default: Memory:DatabaseWriteBehind).
/// </summary>
public sealed class DialogManager(
    INluEngine nlu,
    ISkillDispatcher skills,
    ITextGenerator generator,
    ISentenceEmbedder embedder,
    IFactMemory facts,
    IUserProfileStore profiles,
    IDialogStateStore states,
    IConversationStore conversations,
    IShortTermMemory shortTerm,
    ITurnRecorder turns,
    IEnumerable<IPipelineObserver> observers,
    IEnumerable<ITraceRecorder> traceRecorders,
    IOptions<DialogOptions> options,
    TimeProvider clock,
    ILogger<DialogManager> logger) : IMessageHandler
{
    /// <summary>The slot a skill gets set to "yes" once the user confirmed; a skill asking for it requests a confirmation.</summary>
    public const string ConfirmationSlot = "confirmation";

    /// <summary>
    /// Internal slot: the user's words for the request so far (first message plus slot answers). The confirmation
    /// quotes it, and after "yes" the skill runs on it — the "yes" message itself says nothing about the request.
    /// Slots starting with "_" are never passed to skills.
    /// </summary>
    public const string RequestSlot = "_request";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly IPipelineObserver[] _observers = observers.ToArray();
    // Optional: the trace (Trace:Enabled) gets every decision so `replay` can compare them.
    private readonly ITraceRecorder? _trace = traceRecorders.FirstOrDefault(t => t.Enabled);
    private readonly DialogOptions _options = options.Value;
    private readonly IReadOnlySet<string> _confirmIntents = options.Value.ConfirmIntentSet;

    public async Task HandleAsync(Envelope envelope, IReplyWriter reply, CancellationToken cancellationToken)
    {
        string conversationKey = envelope.Platform + ":" + envelope.ConversationId;
        string userKey = envelope.ShardKey;
        using var scope = logger.BeginScope(new Dictionary<string, object>
        {
            ["ConversationId"] = envelope.ConversationId, ["Platform"] = envelope.Platform, ["MessageId"] = envelope.Id,
        });
        await reply.TypingAsync(cancellationToken).ConfigureAwait(false);

        long nluStart = Stopwatch.GetTimestamp();
        var command = CommandSkill(envelope.Text);
        var understood = command is null
            ? await nlu.ParseAsync(envelope.Text, cancellationToken).ConfigureAwait(false)
            : CommandResult(command);
        Observe(envelope, Stages.Nlu, nluStart);
        // Built only when tracing: the JSON (and the events' data parsed back) cost every turn otherwise.
        if (_trace is not null) Trace(envelope, TraceStages.Nlu, nluStart, new JsonObject
        {
            ["intent"] = understood.Intent, ["confidence"] = Math.Round(understood.Confidence, 4), ["language"] = understood.Language,
            ["model"] = understood.Model, ["escalated"] = understood.Escalated,
            ["entities"] = new JsonArray(understood.Entities.Select(e => (JsonNode)new JsonObject { ["type"] = e.Type, ["value"] = e.Value }).ToArray()),
        });

        long now = NowMs();
        // The context window is read before this message enters the short-term buffer; the message goes last on its own.
        var recentTurns = await shortTerm.RecentAsync(conversationKey, _options.ContextTurns, cancellationToken).ConfigureAwait(false);
        var profile = await profiles.GetAsync(userKey, cancellationToken).ConfigureAwait(false);
        string language = PickLanguage(understood.Language, envelope.Language, profile.Language);
        float[]? embedding = await EmbeddingAsync(envelope.Text, understood, cancellationToken).ConfigureAwait(false);
        // The turn's writes are issued as soon as each is known and awaited once, just before the reply goes out. The
        // user's message, the dialog events and the reply go to the event log together once the decision is made:
        // one group commit (one fsync) on the reply's path instead of one for the message and another for the rest.
        // A reply a user sees has all three fsynced in the event log; the LiteDB side (message table, state, profile)
        // is queued in order and committed behind the reply (Memory:DatabaseWriteBehind; fsynced within
        // Memory:DatabaseSyncMilliseconds), read back through the memory module's caches until then.
        var inbound = new ConversationMessage(envelope.Id, conversationKey, userKey, "in", envelope.Text, now)
        {
            Intent = understood.Intent, Language = language, Embedding = embedding,
        };
        var writes = new List<Task>(4);

        var turn = new TurnContext(envelope, understood, conversationKey, userKey, language, now, profile, reply, recentTurns) { Command = command };
        LearnProfile(turn, writes, cancellationToken);

        long dialogStart = Stopwatch.GetTimestamp();
        DialogState state;
        Outcome outcome;
        try
        {
            state = await states.GetAsync(conversationKey, cancellationToken).ConfigureAwait(false) ?? new DialogState(conversationKey, userKey);
            state = ExpireIfStale(turn, state);
            outcome = await DecideAsync(turn, state, dialogStart, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // The inbound message is still recorded (and its failure, if any, observed) before the apology.
            writes.Add(conversations.RecordMessageAsync(inbound, cancellationToken).AsTask());
            try { await Task.WhenAll(writes).ConfigureAwait(false); }
            catch (Exception ex) { logger.LogError(ex, "Recording message {MessageId} failed", envelope.Id); }
            throw;
        }

        if (_trace is not null) Trace(envelope, TraceStages.Dialog, dialogStart, new JsonObject
        {
            ["decisions"] = new JsonArray(turn.Events.Select(e => (JsonNode)new JsonObject
            {
                ["event"] = e.Kind, ["intent"] = e.Text, ["data"] = e.DataJson is null ? null : JsonNode.Parse(e.DataJson),
            }).ToArray()),
            ["source"] = outcome.Source,
        });
        long sentAt = NowMs();
        // In the event log: the user's message, then the dialog events in order, then the reply, in one frame.
        writes.Add(turns.RecordTurnAsync(inbound, turn.Events, new ConversationMessage(envelope.Id + ":out", conversationKey, userKey, "out", outcome.Text, sentAt)
        {
            Language = language,
        }, cancellationToken).AsTask());
        var finalState = outcome.State with { Language = language, LastActivityMs = sentAt };
        if (finalState != state) finalState = finalState with { UpdatedMs = sentAt };
        writes.Add(states.SaveAsync(finalState, cancellationToken).AsTask());
        await Task.WhenAll(writes).ConfigureAwait(false);
        if (!reply.Completed)
        {
            await reply.FinalAsync(new Reply(outcome.Text) { CardJson = outcome.CardJson, Language = language, Source = outcome.Source }, cancellationToken)
                .ConfigureAwait(false);
        }
    }

    private async Task<Outcome> DecideAsync(TurnContext turn, DialogState state, long dialogStart, CancellationToken ct)
    {
        string intent = turn.Nlu.Intent;
        var match = turn.Command ?? skills.Match(turn.Envelope.Text, turn.Nlu);

        if (state.AwaitingConfirmation && state.SkillId is not null)
        {
            if (intent == Intents.Affirm)
            {
                turn.Log(state, "confirmed", new { skill = state.SkillId });
                var slots = new Dictionary<string, string>(state.FilledSlots) { [ConfirmationSlot] = "yes" };
                return await ExecuteAsync(turn, state, state.SkillId, state.ActiveIntent ?? intent, slots, dialogStart, ct,
                    onRequestText: true).ConfigureAwait(false);
            }
            if (intent == Intents.Deny)
            {
                turn.Log(state, "denied", new { skill = state.SkillId });
                return Done(turn, AfterFinished(turn, state), DialogTexts.Cancelled(turn.Language), "dialog:cancelled", dialogStart);
            }
            state = SwitchTopic(turn, state, intent);
        }
        else if (state.PendingSlot is { } pendingSlot && state.SkillId is not null)
        {
            bool answers = turn.Nlu.Entities.Any(e => e.Type == pendingSlot) || intent == state.ActiveIntent;
            if (intent == Intents.Deny && !answers)
            {
                turn.Log(state, "cancelled", new { skill = state.SkillId, slot = pendingSlot });
                return Done(turn, AfterFinished(turn, state), DialogTexts.Cancelled(turn.Language), "dialog:cancelled", dialogStart);
            }
            if (!answers && IsNewTopic(match, state, turn.Nlu))
            {
                state = SwitchTopic(turn, state, intent);
            }
            else
            {
                var manifest = skills.Skills.FirstOrDefault(s => s.Id == state.SkillId);
                var slots = new Dictionary<string, string>(state.FilledSlots);
                string value = turn.Nlu.Entities.FirstOrDefault(e => e.Type == pendingSlot)?.Value ?? turn.Envelope.Text.Trim();
                slots[pendingSlot] = value;
                slots[RequestSlot] = (state.FilledSlots.GetValueOrDefault(RequestSlot) + " " + turn.Envelope.Text).Trim();
                AddEntities(slots, turn.Nlu, manifest);
                turn.Log(state, "slot_filled", new { slot = pendingSlot, skill = state.SkillId });
                if (manifest is null)
                {
                    // The skill disappeared (plugin unloaded) while we were asking: nothing left to run.
                    return Done(turn, AfterFinished(turn, state), DialogTexts.NoAnswer(turn.Language), "dialog:skill_gone", dialogStart);
                }
                return await ContinueAsync(turn, state, manifest, state.ActiveIntent ?? intent, slots, dialogStart, ct).ConfigureAwait(false);
            }
        }

        if (match is not null && intent is not (Intents.Affirm or Intents.Deny))
        {
            var slots = new Dictionary<string, string> { [RequestSlot] = turn.Envelope.Text.Trim() };
            AddEntities(slots, turn.Nlu, match);
            return await ContinueAsync(turn, state, match, intent, slots, dialogStart, ct).ConfigureAwait(false);
        }
        // Greetings, goodbyes and thanks have a right answer: say it, rather than sample one from the language model.
        if (intent is Intents.Greet or Intents.Goodbye or Intents.Thanks && turn.Nlu.Confidence >= _options.CannedReplyMinConfidence)
        {
            turn.Log(state, "canned", new { intent });
            return Done(turn, state, DialogTexts.Canned(turn.Language, intent, turn.Profile.DisplayName), "dialog:" + intent, dialogStart);
        }
        if (intent == Intents.MemoryRemember)
        {
            string fact = turn.Nlu.Entities.FirstOrDefault(e => e.Type == EntityTypes.Fact)?.Value ?? turn.Envelope.Text.Trim();
            await facts.RememberAsync(turn.UserKey, fact, ct).ConfigureAwait(false);
            turn.Log(state, "remembered", null);
            return Done(turn, state, DialogTexts.Remembered(turn.Language), "dialog:remember", dialogStart);
        }
        Observe(turn.Envelope, Stages.Dialog, dialogStart);
        return await GenerateAsync(turn, state, ct).ConfigureAwait(false);
    }

    /// <summary>Asks for the first missing required slot, or for a confirmation, or runs the skill.</summary>
    private async Task<Outcome> ContinueAsync(TurnContext turn, DialogState state, SkillManifest skill, string intent,
        Dictionary<string, string> slots, long dialogStart, CancellationToken ct)
    {
        var missing = skill.RequiredSlots.Where(r => !slots.ContainsKey(r.Slot)).ToList();
        if (missing.Count > 0)
        {
            string question = Question(missing[0], turn.Language);
            var asking = state with
            {
                ActiveIntent = intent, SkillId = skill.Id, FilledSlots = slots, MissingSlots = missing.Select(m => m.Slot).ToList(),
                PendingSlot = missing[0].Slot, PendingQuestion = question, AwaitingConfirmation = false,
            };
            turn.Log(asking, "clarify", new { skill = skill.Id, slot = missing[0].Slot });
            return Done(turn, asking, question, "dialog:clarify", dialogStart);
        }
        if (_confirmIntents.Contains(intent) && !slots.ContainsKey(ConfirmationSlot))
        {
            string question = DialogTexts.Confirm(turn.Language, slots.GetValueOrDefault(RequestSlot) ?? turn.Envelope.Text);
            var confirming = state with
            {
                ActiveIntent = intent, SkillId = skill.Id, FilledSlots = slots, MissingSlots = [],
                PendingSlot = null, PendingQuestion = question, AwaitingConfirmation = true,
            };
            turn.Log(confirming, "confirm", new { skill = skill.Id });
            return Done(turn, confirming, question, "dialog:confirm", dialogStart);
        }
        return await ExecuteAsync(turn, state, skill.Id, intent, slots, dialogStart, ct).ConfigureAwait(false);
    }

    /// <param name="onRequestText">Run the skill on the request's words (after a confirmation) instead of this message's.</param>
    private async Task<Outcome> ExecuteAsync(TurnContext turn, DialogState state, string skillId, string intent,
        Dictionary<string, string> slots, long dialogStart, CancellationToken ct, bool onRequestText = false)
    {
        Observe(turn.Envelope, Stages.Dialog, dialogStart);
        var envelope = onRequestText && slots.TryGetValue(RequestSlot, out var request) ? turn.Envelope with { Text = request } : turn.Envelope;
        var skillSlots = slots.Where(kv => !kv.Key.StartsWith('_')).ToDictionary(kv => kv.Key, kv => kv.Value);
        var context = new SkillContext
        {
            Envelope = envelope, Nlu = turn.Nlu, Slots = skillSlots, Language = turn.Language,
            TimeZone = turn.Profile.TimeZone, City = turn.Profile.City, TraceId = turn.Envelope.Id,
        };
        long skillStart = Stopwatch.GetTimestamp();
        var result = await skills.ExecuteAsync(skillId, context, ct).ConfigureAwait(false);
        Observe(turn.Envelope, Stages.Skill, skillStart);
        if (_trace is not null) Trace(turn.Envelope, TraceStages.Skill, skillStart, new JsonObject
        {
            ["skill"] = skillId, ["succeeded"] = result.Succeeded, ["missingSlot"] = result.MissingSlot,
            ["slots"] = new JsonObject(slots.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
        });
        string source = "skill:" + skillId;

        if (result.FollowUpQuestion is { } followUp && result.Succeeded)
        {
            bool confirm = result.MissingSlot == ConfirmationSlot;
            var asking = state with
            {
                ActiveIntent = intent, SkillId = skillId, FilledSlots = slots,
                MissingSlots = result.MissingSlot is null || confirm ? [] : [result.MissingSlot],
                PendingSlot = confirm ? null : result.MissingSlot ?? "text", PendingQuestion = followUp, AwaitingConfirmation = confirm,
            };
            turn.Log(asking, confirm ? "confirm" : "clarify", new { skill = skillId, slot = result.MissingSlot });
            return new Outcome(followUp, result.CardJson, source, asking);
        }

        turn.Log(state, "skill", new { skill = skillId, succeeded = result.Succeeded });
        var next = AfterFinished(turn, state);
        string text = result.Text;
        if (next.PendingQuestion is { } resumed) text = text + "\n\n" + DialogTexts.Resume(turn.Language, resumed);
        return new Outcome(text, result.CardJson, source, next);
    }

    private async Task<Outcome> GenerateAsync(TurnContext turn, DialogState state, CancellationToken ct)
    {
        long start = Stopwatch.GetTimestamp();
        string current = turn.Envelope.Text;
        var recalled = _options.RecallCount == 0
            ? []
            : (await facts.RecallAsync(turn.UserKey, current, _options.RecallCount + 1, ct).ConfigureAwait(false)).ToList();
        var turns = turn.RecentTurns;
        var inWindow = turns.Select(t => t.Text).Append(current).ToHashSet();
        var memories = recalled.Where(r => r.Score >= _options.RecallMinScore && !inWindow.Contains(r.Text)).Take(_options.RecallCount).ToList();

        string system = DialogTexts.SystemPrompt(turn.Language);
        string profileText = DialogTexts.Profile(turn.Language, turn.Profile.DisplayName, turn.Profile.City, turn.Profile.TimeZone);
        if (profileText.Length > 0) system += " " + profileText;
        var window = ContextAssembler.Build(system, DialogTexts.MemoriesHeader(turn.Language), memories, turns, current,
            _options.MaxContextTokens - _options.MaxNewTokens);
        logger.LogDebug("Context window: {Turns} turns ({Trimmed} trimmed), {Memories} memories, ~{Tokens} tokens",
            window.TurnsUsed, window.TurnsTrimmed, window.MemoriesUsed, window.EstimatedTokens);

        // The seed derives from the message id, so `replay` of a trace reproduces sampled replies too.
        long seed = (long)(ShardHash.Fnv1a64(turn.Envelope.Id) & long.MaxValue);
        var request = new GenerationRequest(window.Messages) { Sampling = new SamplingOptions { MaxNewTokens = _options.MaxNewTokens, Seed = seed } };
        var tokenIds = new List<int>();
        var text = new StringBuilder();
        string model = "";
        await foreach (var token in generator.GenerateAsync(request, ct).ConfigureAwait(false))
        {
            if (token.Model.Length > 0) model = token.Model;
            tokenIds.Add(token.TokenId);
            if (token.Text.Length == 0) continue;
            text.Append(token.Text);
            await turn.Reply.DeltaAsync(token.Text, ct).ConfigureAwait(false);
        }
        Observe(turn.Envelope, Stages.Generation, start);
        if (_trace is not null) Trace(turn.Envelope, TraceStages.Generation, start, new JsonObject
        {
            ["model"] = model, ["seed"] = seed, ["promptHash"] = PromptHash(window.Messages),
            ["tokens"] = new JsonArray(tokenIds.Select(id => (JsonNode)id).ToArray()),
        });
        string answer = text.ToString().Trim();
        turn.Log(state, "generate", new { model, turns = window.TurnsUsed, trimmed = window.TurnsTrimmed, memories = window.MemoriesUsed });
        return new Outcome(answer.Length > 0 ? answer : DialogTexts.NoAnswer(turn.Language), null, "lm:" + (model.Length > 0 ? model : "auto"), state);
    }

    private bool IsNewTopic(SkillManifest? match, DialogState state, NluResult understood) =>
        match is not null && match.Id != state.SkillId && understood.Confidence >= _options.TopicSwitchMinConfidence
        && understood.Intent is not (Intents.Affirm or Intents.Deny or Intents.Smalltalk or Intents.OutOfScope);

    /// <summary>The new intent wins; the unfinished one is kept to resume afterwards or dropped (Dialog:TopicSwitch).</summary>
    private DialogState SwitchTopic(TurnContext turn, DialogState state, string newIntent)
    {
        bool resume = _options.ResumeAfterTopicSwitch;
        turn.Log(state, "topic_switch", new { from = state.ActiveIntent, to = newIntent, mode = resume ? "resume" : "drop" });
        return Idle(state) with { Suspended = resume ? state with { Suspended = null } : null };
    }

    /// <summary>After a request is finished or cancelled: back to a suspended one if there is one, else idle.</summary>
    private static DialogState AfterFinished(TurnContext turn, DialogState state)
    {
        if (state.Suspended is { } suspended)
        {
            turn.Log(suspended, "resume", new { intent = suspended.ActiveIntent });
            return suspended with { ConversationKey = state.ConversationKey, UserKey = state.UserKey };
        }
        return Idle(state);
    }

    private static DialogState Idle(DialogState state) =>
        new(state.ConversationKey, state.UserKey) { Language = state.Language, LastActivityMs = state.LastActivityMs, UpdatedMs = state.UpdatedMs };

    private DialogState ExpireIfStale(TurnContext turn, DialogState state)
    {
        if (state.ActiveIntent is null && state.Suspended is null) return state;
        if (turn.NowMs - state.LastActivityMs <= _options.PendingTimeoutMinutes * 60_000L) return state;
        turn.Log(state, "expired", new { intent = state.ActiveIntent });
        return Idle(state);
    }

    private Outcome Done(TurnContext turn, DialogState state, string text, string source, long dialogStart)
    {
        Observe(turn.Envelope, Stages.Dialog, dialogStart);
        return new Outcome(text, null, source, state);
    }

    private static void AddEntities(Dictionary<string, string> slots, NluResult understood, SkillManifest? skill)
    {
        foreach (var e in understood.Entities)
        {
            if (skill is not null && skill.RequiredSlots.Count > 0 && !skill.RequiredSlots.Any(r => r.Slot == e.Type)) continue;
            slots.TryAdd(e.Type, e.Value);
        }
    }

    private static string Question(SlotRequirement slot, string language) =>
        slot.Question.TryGetValue(language, out var q) ? q
        : slot.Question.TryGetValue("en", out var en) ? en
        : slot.Question.Values.FirstOrDefault() ?? DialogTexts.AskSlot(language, slot.Slot);

    private void LearnProfile(TurnContext turn, List<Task> writes, CancellationToken ct)
    {
        var p = turn.Profile;
        var learned = p with
        {
            DisplayName = turn.Envelope.UserDisplayName ?? p.DisplayName,
            Language = turn.Language,
            City = turn.Nlu.Intent == Intents.WeatherQuery && turn.Nlu.Entities.FirstOrDefault(e => e.Type == EntityTypes.Location) is { } loc ? loc.Value : p.City,
        };
        if (learned == p) return;
        turn.Profile = learned with { UpdatedMs = turn.NowMs };
        writes.Add(profiles.SaveAsync(turn.Profile, ct).AsTask());
    }

    /// <summary>The model name an NLU result made up for a slash command carries (traces show it).</summary>
    public const string CommandModel = "command";

    /// <summary>"/time …" → the skill with id "time", when Dialog:SlashCommands is on; null otherwise.</summary>
    private SkillManifest? CommandSkill(string text)
    {
        if (!_options.SlashCommands) return null;
        var t = text.AsSpan().TrimStart();
        if (t.Length < 2 || t[0] != '/') return null;
        var rest = t[1..];
        int end = rest.IndexOfAny(' ', '\t', '\n');
        var name = end < 0 ? rest : rest[..end];
        foreach (var skill in skills.Skills)
        {
            if (name.Equals(skill.Id, StringComparison.OrdinalIgnoreCase)) return skill;
        }
        return null;
    }

    // The user named the skill: full confidence in its first intent; the language comes from the hint or the profile.
    private static NluResult CommandResult(SkillManifest skill) =>
        new(skill.Triggers.Intents.FirstOrDefault() ?? Intents.OutOfScope, 1f, [], "") { Model = CommandModel };

    private async Task<float[]?> EmbeddingAsync(string text, NluResult understood, CancellationToken ct)
    {
        // A command is not worth recalling later, and embedding it would cost what skipping NLU saved.
        if (string.IsNullOrWhiteSpace(text) || understood.Model == CommandModel) return null;
        if (understood.Embedding is { } e && e.Length == embedder.Dimension) return e;
        return await embedder.EmbedAsync(text, ct).ConfigureAwait(false);
    }

    private static string PickLanguage(string? detected, string? hint, string? known)
    {
        foreach (var candidate in new[] { detected, hint, known })
        {
            if (string.IsNullOrWhiteSpace(candidate)) continue;
            return candidate.StartsWith("zh", StringComparison.OrdinalIgnoreCase) ? "zh" : candidate.StartsWith("en", StringComparison.OrdinalIgnoreCase) ? "en" : candidate;
        }
        return "en";
    }

    private long NowMs() => clock.GetUtcNow().ToUnixTimeMilliseconds();

    private void Trace(Envelope envelope, string stage, long startTimestamp, JsonObject data)
    {
        if (_trace is null) return;
        _trace.Record(new TraceEvent(envelope.Platform + ":" + envelope.ConversationId, envelope.Id, stage, NowMs(),
            Stopwatch.GetElapsedTime(startTimestamp).TotalMilliseconds, data));
    }

    private static string PromptHash(IReadOnlyList<ChatMessage> messages)
    {
        var bytes = Encoding.UTF8.GetBytes(string.Join("\u001e", messages.Select(m => m.Role + "\u001f" + m.Content)));
        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes))[..16].ToLowerInvariant();
    }

    private void Observe(Envelope envelope, string stage, long startTimestamp)
    {
        var elapsed = Stopwatch.GetElapsedTime(startTimestamp);
        foreach (var o in _observers) o.OnStage(envelope.Platform, envelope.ConversationId, stage, elapsed);
    }

    private sealed record Outcome(string Text, string? CardJson, string Source, DialogState State);

    /// <summary>Everything about the turn being handled, plus the dialog events it produced (persisted after the reply).</summary>
    private sealed class TurnContext(Envelope envelope, NluResult understood, string conversationKey, string userKey, string language, long nowMs,
        UserProfile profile, IReplyWriter reply, IReadOnlyList<Turn> recentTurns)
    {
        public IReadOnlyList<Turn> RecentTurns { get; } = recentTurns;
        public Envelope Envelope { get; } = envelope;
        public NluResult Nlu { get; } = understood;
        public string ConversationKey { get; } = conversationKey;
        public string UserKey { get; } = userKey;
        public string Language { get; } = language;
        public long NowMs { get; } = nowMs;
        public UserProfile Profile { get; set; } = profile;
        public IReplyWriter Reply { get; } = reply;
        public List<LoggedEvent> Events { get; } = new();

        /// <summary>The skill a slash command named, if the message was one.</summary>
        public SkillManifest? Command { get; init; }

        public void Log(DialogState state, string what, object? data) =>
            Events.Add(new LoggedEvent(ConversationKey, UserKey, EventKinds.DialogPrefix + what, NowMs, state.ActiveIntent,
                data is null ? null : JsonSerializer.Serialize(data, Json)));
    }
}
