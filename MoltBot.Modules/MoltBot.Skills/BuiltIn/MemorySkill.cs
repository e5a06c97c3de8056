using System.Text.RegularExpressions;
using MoltBot.Contracts.Inference;
using MoltBot.Contracts.Memory;
using MoltBot.Contracts.Skills;

namespace MoltBot.Skills.BuiltIn;

/// <summary>"Remember that …" stores a fact in the user's vector memory; "what did I tell you about …" recalls it.</summary>
internal sealed partial class MemorySkill(IFactMemory memory, MemorySkillOptions options) : ISkill
{
    public const string Id = "memory";

    public SkillManifest Manifest { get; } = new()
    {
        Id = Id,
        Description = "Memory: \"remember that my sister's birthday is May 3\", \"what did I tell you about my sister?\".",
        Descriptions = new Dictionary<string, string>
        {
            ["en"] = "Memory: \"remember that my sister's birthday is May 3\", \"what did I tell you about my sister?\".",
            ["zh"] = "记忆：“记住我妹妹的生日是5月3日”、“我跟你说过我妹妹什么？”",
        },
        Triggers = new SkillTriggers
        {
            Intents = [Intents.MemoryRemember, Intents.MemoryRecall],
            Keywords = ["remember that", "remember", "don't forget that", "note that", "what did i tell you", "what did i say about",
                "do you remember", "what do you know about", "记住", "记一下", "记下", "我跟你说过", "我告诉过你", "你还记得", "你记得"],
        },
        Permissions = [SkillPermissions.Memory],
    };

    [GeneratedRegex(@"^(?:please\s+|can you\s+|could you\s+)?(?:remember|don't forget|do not forget|note|keep in mind)\s*(?:that\s+|:\s*)?(?<f>.+?)[.!]*$", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex EnRemember();

    [GeneratedRegex(@"(?:请|帮我|你)?(?:记住|记一下|记下|别忘了)[：:，,\s]*(?<f>.+?)[。！!]*$", RegexOptions.Singleline)]
    private static partial Regex ZhRemember();

    [GeneratedRegex(@"(?:what did i (?:tell|say to) you about|what did i say about|what do you (?:know|remember) about|do you remember(?: anything about| what i said about)?)\s+(?<q>.+?)[?.!]*$", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex EnRecall();

    [GeneratedRegex(@"(?:关于(?<q>.+?)我(?:跟|和|对)?你(?:说|讲)过什么|我(?:跟|和|对)?你(?:说|讲)过(?:关于)?(?<q>.+?)(?:的)?(?:什么|吗|的事)|我告诉过你(?:关于)?(?<q>.+?)(?:的)?(?:什么|吗|的事)|你(?:还)?记得(?:关于)?(?<q>.+?)(?:的)?(?:什么|吗|的事))")]
    private static partial Regex ZhRecall();

    public async Task<SkillResult> ExecuteAsync(SkillContext context, CancellationToken cancellationToken)
    {
        bool zh = context.Language == "zh";
        string text = TextMatch.Normalize(context.Envelope.Text);
        string userKey = context.Envelope.ShardKey;
        string intent = context.Nlu.Intent;

        var enRecall = EnRecall().Match(text);
        var zhRecall = ZhRecall().Match(text);
        bool recall = intent == Intents.MemoryRecall || (intent != Intents.MemoryRemember && (enRecall.Success || zhRecall.Success));
        if (recall)
        {
            string query = enRecall.Success ? enRecall.Groups["q"].Value : zhRecall.Success ? zhRecall.Groups["q"].Value : text;
            return await RecallAsync(userKey, query.Trim(), zh, cancellationToken).ConfigureAwait(false);
        }

        string? fact = context.Slots.TryGetValue(EntityTypes.Fact, out var slot) && !string.IsNullOrWhiteSpace(slot) ? slot.Trim() : null;
        if (fact is null)
        {
            var m = EnRemember().Match(text);
            if (!m.Success) m = ZhRemember().Match(text);
            if (m.Success) fact = m.Groups["f"].Value.Trim();
        }
        if (string.IsNullOrWhiteSpace(fact))
            return SkillResult.Ask(EntityTypes.Fact, zh ? "要我记住什么呢？" : "What should I remember?");

        await memory.RememberAsync(userKey, fact, cancellationToken).ConfigureAwait(false);
        return SkillResult.Say(zh ? $"好的，我记住了：{fact}" : $"Got it, I'll remember that {fact}.");
    }

    private async Task<SkillResult> RecallAsync(string userKey, string query, bool zh, CancellationToken cancellationToken)
    {
        var facts = await memory.RecallAsync(userKey, query, options.RecallCount, cancellationToken).ConfigureAwait(false);
        var relevant = facts.Where(f => f.Score >= options.MinScore).OrderByDescending(f => f.Score).ToList();
        if (relevant.Count == 0)
            return SkillResult.Say(zh ? $"我不记得你跟我说过关于“{query}”的事。" : $"I don't remember you telling me anything about {query}.");
        string list = string.Join(zh ? "；" : "; ", relevant.Select(f => f.Text));
        return SkillResult.Say(zh ? $"你跟我说过：{list}" : $"You told me: {list}");
    }
}
