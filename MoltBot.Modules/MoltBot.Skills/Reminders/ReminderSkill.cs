using System.Globalization;
using System.Text.RegularExpressions;
using MoltBot.Contracts.Inference;
using MoltBot.Contracts.Skills;

namespace MoltBot.Skills.Reminders;

/// <summary>Creates, lists and cancels reminders ("remind me in 10 minutes to …", "明天早上8点提醒我…").</summary>
internal sealed partial class ReminderSkill(
    ReminderStore store, ReminderScheduler scheduler, TimeProvider clock, SkillsOptions skills, RemindersOptions options) : ISkill
{
    public const string Id = "reminders";

    public SkillManifest Manifest { get; } = new()
    {
        Id = Id,
        Description = "Reminders: \"remind me in 10 minutes to call mom\", \"list my reminders\", \"cancel reminder 2\".",
        Descriptions = new Dictionary<string, string>
        {
            ["en"] = "Reminders: \"remind me in 10 minutes to call mom\", \"list my reminders\", \"cancel reminder 2\".",
            ["zh"] = "提醒：“10分钟后提醒我给妈妈打电话”、“明天早上8点提醒我开会”、“我有哪些提醒”、“取消提醒2”。",
        },
        Triggers = new SkillTriggers
        {
            Intents = [Intents.ReminderCreate, Intents.ReminderList, Intents.ReminderCancel],
            Keywords = ["remind me", "reminder", "reminders", "set a reminder", "提醒", "提醒我", "闹钟"],
        },
        Permissions = [SkillPermissions.Storage, SkillPermissions.Proactive],
    };

    [GeneratedRegex(@"^(?!\s*remind me\b).*(?:\b(?:list|show|what are|what're|see|view|check|any)\b.*\breminders?\b|\bmy reminders\b)", RegexOptions.IgnoreCase)]
    private static partial Regex EnList();

    [GeneratedRegex(@"(?:查看|列出|有哪些|有什么|有几个|看看|我的)\s*提醒|提醒.*(?:有哪些|列表|清单)")]
    private static partial Regex ZhList();

    [GeneratedRegex(@"^(?!\s*remind me\b).*\b(?:cancel|delete|remove|clear)\b.*\breminders?\b|\bdon'?t remind me\b", RegexOptions.IgnoreCase)]
    private static partial Regex EnCancel();

    [GeneratedRegex(@"(?:取消|删除|删掉|清空).*提醒|不用提醒|别提醒")]
    private static partial Regex ZhCancel();

    [GeneratedRegex(@"\bremind\s+me\s+(?:to\s+|that\s+|about\s+|of\s+)?(?<t>.+)$|\b(?:set\s+)?(?:a\s+)?reminder\s+(?:to\s+|for\s+|about\s+|that\s+)?(?<t>.+)$", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex EnText();

    [GeneratedRegex(@"提醒(?:我|一下)?(?:一下)?(?:去|要|该)?(?<t>.+)$", RegexOptions.Singleline)]
    private static partial Regex ZhText();

    public Task<SkillResult> ExecuteAsync(SkillContext context, CancellationToken cancellationToken)
    {
        string text = TextMatch.Normalize(context.Envelope.Text);
        bool zh = context.Language == "zh";
        string intent = context.Nlu.Intent;
        string userKey = context.Envelope.ShardKey;
        var zone = TimeZones.ForUser(context.TimeZone, skills.DefaultTimeZone);

        bool list = intent == Intents.ReminderList || (intent != Intents.ReminderCreate && (EnList().IsMatch(text) || ZhList().IsMatch(text)));
        bool cancel = intent == Intents.ReminderCancel || (intent != Intents.ReminderCreate && (EnCancel().IsMatch(text) || ZhCancel().IsMatch(text)));
        if (cancel) return Task.FromResult(Cancel(text, userKey, zone, zh, context));
        if (list) return Task.FromResult(List(userKey, zone, zh));
        return Task.FromResult(Create(text, context, userKey, zone, zh));
    }

    private SkillResult Create(string text, SkillContext context, string userKey, TimeZoneInfo zone, bool zh)
    {
        var now = clock.GetUtcNow();
        // Slots from earlier turns (the answer to "when?" or "what?") complete the message.
        context.Slots.TryGetValue(EntityTypes.DateTime, out var slotTime);
        context.Slots.TryGetValue(EntityTypes.Duration, out var slotDuration);
        context.Slots.TryGetValue(EntityTypes.ReminderText, out var slotText);

        var parsed = ReminderTimeParser.Parse(text, now, zone);
        var inText = parsed;
        if (parsed is null && !string.IsNullOrWhiteSpace(slotTime)) parsed = ReminderTimeParser.Parse(slotTime, now, zone);
        if (parsed is null && !string.IsNullOrWhiteSpace(slotDuration))
        {
            var d = ReminderTimeParser.ParseDuration(slotDuration) ?? ReminderTimeParser.Parse("in " + slotDuration, now, zone)?.DueUtc.Subtract(now);
            if (d is { } dur) parsed = new ParsedTime(now + dur, [], true);
        }

        // Only spans found in this text may be cut out of it.
        string what = !string.IsNullOrWhiteSpace(slotText) ? slotText.Trim() : ExtractText(text, inText);
        if (parsed is null)
        {
            return SkillResult.Ask(EntityTypes.DateTime, zh ? "好的，什么时候提醒你？（例如“10分钟后”或“明天早上8点”）" : "Sure, when should I remind you? (e.g. \"in 10 minutes\" or \"tomorrow at 8am\")");
        }
        if (string.IsNullOrWhiteSpace(what))
        {
            return SkillResult.Ask(EntityTypes.ReminderText, zh ? "要提醒你什么事呢？" : "What should I remind you about?");
        }
        if (parsed.DueUtc <= now)
        {
            return new SkillResult { Text = zh ? "这个时间已经过去了，请给我一个将来的时间。" : "That time has already passed; please give me a time in the future." };
        }
        if (parsed.DueUtc > now.AddDays(options.MaxDaysAhead))
        {
            return new SkillResult { Text = zh ? $"提醒最多只能设置在{options.MaxDaysAhead}天以内。" : $"I can only set reminders up to {options.MaxDaysAhead} days ahead." };
        }
        if (store.Pending(userKey).Count >= options.MaxPendingPerUser)
        {
            return new SkillResult { Text = zh ? $"你已经有{options.MaxPendingPerUser}个待办提醒了，请先取消一些。" : $"You already have {options.MaxPendingPerUser} pending reminders; please cancel some first." };
        }

        var env = context.Envelope;
        var reminder = new Reminder
        {
            UserKey = userKey,
            Platform = env.Platform,
            Account = env.Account,
            ConversationId = env.ConversationId,
            UserId = env.UserId,
            Text = what,
            Language = zh ? "zh" : "en",
            TimeZone = zone.Id,
            DueMs = parsed.DueUtc.ToUnixTimeMilliseconds(),
            CreatedMs = now.ToUnixTimeMilliseconds(),
        };
        store.Add(reminder);
        scheduler.Wake();

        string when = Describe(parsed.DueUtc, now, zone, zh);
        return new SkillResult
        {
            Text = zh ? $"好的，我会在{when}提醒你：{what}" : $"OK, I'll remind you {when}: {what}",
            CardJson = $$"""{"type":"reminder","id":"{{reminder.Id}}","dueUtc":"{{parsed.DueUtc.UtcDateTime:O}}","timeZone":"{{zone.Id}}"}""",
        };
    }

    private SkillResult List(string userKey, TimeZoneInfo zone, bool zh)
    {
        var pending = store.Pending(userKey);
        if (pending.Count == 0) return SkillResult.Say(zh ? "你现在没有待办的提醒。" : "You have no pending reminders.");
        var lines = pending.Select((r, i) => $"{i + 1}. {Local(r.DueMs, zone)} — {r.Text}");
        string head = zh ? $"你有{pending.Count}个提醒：" : $"You have {pending.Count} reminder{(pending.Count == 1 ? "" : "s")}:";
        return SkillResult.Say(head + "\n" + string.Join("\n", lines));
    }

    private SkillResult Cancel(string text, string userKey, TimeZoneInfo zone, bool zh, SkillContext context)
    {
        var pending = store.Pending(userKey);
        if (pending.Count == 0) return SkillResult.Say(zh ? "你没有可以取消的提醒。" : "You have no pending reminders to cancel.");
        // The answer to "which one?" arrives as the "reminder" slot on the next turn.
        if (context.Slots.TryGetValue("reminder", out var answer) && !string.IsNullOrWhiteSpace(answer)) text = answer;

        IReadOnlyList<Reminder> chosen = [];
        if (Regex.IsMatch(text, @"\ball\b|所有|全部", RegexOptions.IgnoreCase))
        {
            chosen = pending;
        }
        else if (Regex.Match(text, @"(?<n>\d+)|第(?<z>[一二三四五六七八九十]+)个?") is { Success: true } m
                 && (m.Groups["n"].Success ? int.TryParse(m.Groups["n"].Value, out int n) : ChineseNumber.TryParse(m.Groups["z"].Value, out n))
                 && n >= 1 && n <= pending.Count)
        {
            chosen = [pending[n - 1]];
        }
        else
        {
            var byText = pending.Where(r => r.Text.Length > 1 && text.Contains(r.Text, StringComparison.OrdinalIgnoreCase)).ToList();
            if (byText.Count == 0)
            {
                var words = Regex.Split(text.ToLowerInvariant(), @"\W+").Where(w => w.Length > 3).ToHashSet();
                byText = pending.Where(r => Regex.Split(r.Text.ToLowerInvariant(), @"\W+").Any(words.Contains)).ToList();
            }
            if (byText.Count == 1) chosen = byText;
            else if (pending.Count == 1) chosen = pending;
        }

        if (chosen.Count == 0)
        {
            var listing = string.Join("\n", pending.Select((r, i) => $"{i + 1}. {Local(r.DueMs, zone)} — {r.Text}"));
            return SkillResult.Ask("reminder", (zh ? "要取消哪一个？请回复编号：\n" : "Which one should I cancel? Reply with its number:\n") + listing);
        }
        foreach (var r in chosen) store.Cancel(r.Id);
        scheduler.Wake();
        return SkillResult.Say(chosen.Count == 1
            ? (zh ? $"已取消提醒：{chosen[0].Text}" : $"Cancelled the reminder: {chosen[0].Text}")
            : (zh ? $"已取消全部{chosen.Count}个提醒。" : $"Cancelled all {chosen.Count} reminders."));
    }

    /// <summary>The reminder text: what follows "remind me (to)" / "提醒我", with the time expressions cut out.</summary>
    private static string ExtractText(string text, ParsedTime? parsed)
    {
        string rest = text;
        if (parsed is not null)
        {
            var chars = rest.ToCharArray();
            foreach (var (start, length) in parsed.Spans)
            {
                for (int i = start; i < start + length && i < chars.Length; i++) chars[i] = '\u0001';
            }
            rest = Regex.Replace(new string(chars), "\u0001+", " ");
        }
        rest = Regex.Replace(rest, @"\s+", " ").Trim();
        var en = EnText().Match(rest);
        string what = en.Success ? en.Groups["t"].Value : "";
        if (!en.Success)
        {
            var zh = ZhText().Match(rest);
            if (zh.Success) what = zh.Groups["t"].Value;
            else if (rest.Contains("提醒", StringComparison.Ordinal)) what = rest.Replace("提醒我", "").Replace("提醒", "");
        }
        what = Regex.Replace(what, @"^(?:\s|,|:|to\b|that\b|about\b|我|一下|去)+", "", RegexOptions.IgnoreCase);
        what = Regex.Replace(what, @"(?:\s|[,.!?]|\bat\b|\bon\b|\bplease\b|吧|哦|啊|。|！)+$", "", RegexOptions.IgnoreCase);
        return what.Trim();
    }

    private static string Local(long ms, TimeZoneInfo zone) =>
        TimeZoneInfo.ConvertTime(DateTimeOffset.FromUnixTimeMilliseconds(ms), zone).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    private static string Describe(DateTimeOffset dueUtc, DateTimeOffset nowUtc, TimeZoneInfo zone, bool zh)
    {
        var local = TimeZoneInfo.ConvertTime(dueUtc, zone);
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(nowUtc, zone).DateTime);
        var day = DateOnly.FromDateTime(local.DateTime);
        string clock = local.ToString("HH:mm", CultureInfo.InvariantCulture);
        if (zh)
        {
            string d = day == today ? "今天" : day == today.AddDays(1) ? "明天" : day == today.AddDays(2) ? "后天" : local.ToString("M月d日", CultureInfo.InvariantCulture);
            return $"{d} {clock}";
        }
        string en = day == today ? "today" : day == today.AddDays(1) ? "tomorrow" : "on " + local.ToString("ddd d MMM yyyy", CultureInfo.InvariantCulture);
        return $"{en} at {clock} ({zone.Id})";
    }
}
