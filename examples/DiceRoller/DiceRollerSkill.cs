using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using MoltBot.Contracts.Skills;

namespace DiceRoller;

/// <summary>
/// Rolls dice ("roll 2d6", "roll a die", "掷骰子") and keeps each user's roll count in the plugin's storage
/// (which is why plugin.json declares the "storage" permission).
/// </summary>
public sealed class DiceRollerSkill : ISkill
{
    private static readonly string BuildVersion =
        typeof(DiceRollerSkill).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "?";

    private readonly ISkillStorage _storage;
    private readonly int _defaultSides;
    private readonly int _maxDice;

    public DiceRollerSkill(SkillHostContext host)
    {
        // Taking storage here makes a plugin.json without "storage" fail at load, with a clear message.
        _storage = host.Storage;
        _defaultSides = host.Settings.TryGetProperty("defaultSides", out var s) ? s.GetInt32() : 6;
        _maxDice = host.Settings.TryGetProperty("maxDice", out var m) ? m.GetInt32() : 10;
    }

    public SkillManifest Manifest { get; } = new()
    {
        Id = "dice",
        Description = "Dice: \"roll 2d6\", \"roll a die\".",
        Descriptions = new Dictionary<string, string>
        {
            ["en"] = "Dice: \"roll 2d6\", \"roll a die\".",
            ["zh"] = "掷骰子：“掷两个骰子”、“roll 2d6”。",
        },
        Triggers = new SkillTriggers
        {
            Keywords = ["roll", "dice", "die", "骰子", "掷骰"],
            Patterns = [@"^\s*\d{0,3}d\d{1,4}\s*$"],
        },
    };

    public async Task<SkillResult> ExecuteAsync(SkillContext context, CancellationToken cancellationToken)
    {
        bool zh = context.Language == "zh";
        var dice = DiceNotation.Parse(context.Envelope.Text, _defaultSides);
        if (dice.Count < 1 || dice.Count > _maxDice || dice.Sides < 2 || dice.Sides > 1000)
        {
            return SkillResult.Say(zh ? $"我一次最多掷{_maxDice}个骰子，每个2到1000面。" : $"I can roll 1 to {_maxDice} dice with 2 to 1000 sides each.");
        }

        var rolls = Enumerable.Range(0, dice.Count).Select(_ => RandomNumberGenerator.GetInt32(1, dice.Sides + 1)).ToArray();
        string key = "rolls:" + context.Envelope.ShardKey;
        int count = int.TryParse(await _storage.GetAsync(key, cancellationToken), out int c) ? c + 1 : 1;
        await _storage.SetAsync(key, count.ToString(CultureInfo.InvariantCulture), cancellationToken);

        string detail = rolls.Length == 1 ? "" : $" ({string.Join(" + ", rolls)})";
        string text = zh
            ? $"🎲 {dice.Count}d{dice.Sides}：{rolls.Sum()}{detail}。这是你第{count}次掷骰子。[dice {BuildVersion}]"
            : $"🎲 {dice.Count}d{dice.Sides}: {rolls.Sum()}{detail}. That's roll number {count} for you. [dice {BuildVersion}]";
        return new SkillResult
        {
            Text = text,
            CardJson = $$"""{"type":"dice","count":{{dice.Count}},"sides":{{dice.Sides}},"rolls":[{{string.Join(",", rolls)}}],"total":{{rolls.Sum()}}}""",
        };
    }
}
