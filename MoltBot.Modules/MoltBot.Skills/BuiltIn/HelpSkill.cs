using MoltBot.Contracts.Inference;
using MoltBot.Contracts.Skills;

namespace MoltBot.Skills.BuiltIn;

/// <summary>Lists what MoltBot can do, generated from the skills registered right now (plugins included).</summary>
internal sealed class HelpSkill(Func<IReadOnlyList<SkillManifest>> skills) : ISkill
{
    public const string Id = "help";

    public SkillManifest Manifest { get; } = new()
    {
        Id = Id,
        Description = "Help: lists what I can do.",
        Descriptions = new Dictionary<string, string> { ["en"] = "Help: lists what I can do.", ["zh"] = "帮助：列出我能做的事。" },
        Triggers = new SkillTriggers
        {
            Intents = [Intents.Help],
            Keywords = ["help", "what can you do", "what do you do", "commands", "帮助", "你能做什么", "你会什么", "你会做什么", "怎么用"],
        },
    };

    public Task<SkillResult> ExecuteAsync(SkillContext context, CancellationToken cancellationToken)
    {
        bool zh = context.Language == "zh";
        var lines = skills()
            .Where(s => s.Id != Id)
            .Select(s => "• " + (s.Descriptions.TryGetValue(zh ? "zh" : "en", out var d) ? d
                : s.Descriptions.TryGetValue("en", out var en) ? en
                : string.IsNullOrWhiteSpace(s.Description) ? s.Id : s.Description))
            .ToList();
        string head = zh ? "我可以帮你做这些事：" : "Here is what I can do:";
        string tail = zh ? "其他问题也可以直接问我，我会尽量回答。" : "You can also just chat with me and I'll do my best to answer.";
        return Task.FromResult(SkillResult.Say(head + "\n" + string.Join("\n", lines) + "\n" + tail));
    }
}
