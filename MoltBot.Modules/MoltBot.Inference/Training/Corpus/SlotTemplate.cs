using System.Text;
using System.Text.RegularExpressions;
using MoltBot.Contracts.Inference;

namespace MoltBot.Inference.Training.Corpus;

/// <summary>
/// A phrasing with slot markers such as "remind me to {reminder_text} {datetime}". Filling it yields the text and
/// the exact code-point span of every slot value, so generated labels are correct by construction.
/// </summary>
public sealed partial class SlotTemplate
{
    private readonly List<(string Literal, string? Slot)> parts = [];

    public SlotTemplate(string text)
    {
        Text = text;
        int pos = 0;
        foreach (Match m in SlotMarker().Matches(text))
        {
            if (!EntityTypes.All.Contains(m.Groups[1].Value))
                throw new FormatException($"template \"{text}\" uses unknown slot {{{m.Groups[1].Value}}}");
            parts.Add((text[pos..m.Index], null));
            parts.Add(("", m.Groups[1].Value));
            pos = m.Index + m.Length;
        }
        parts.Add((text[pos..], null));
    }

    public string Text { get; }

    public IEnumerable<string> Slots => parts.Where(p => p.Slot is not null).Select(p => p.Slot!);

    public bool HasSlots => parts.Any(p => p.Slot is not null);

    /// <summary>Fills every slot with <paramref name="valueFor"/>(slot) and returns the text with its entity spans.</summary>
    public (string Text, List<EntitySpan> Entities) Fill(Func<string, string> valueFor)
    {
        var sb = new StringBuilder();
        var entities = new List<EntitySpan>();
        int cp = 0;
        foreach (var (literal, slot) in parts)
        {
            string piece = slot is null ? literal : valueFor(slot);
            if (slot is not null)
            {
                int len = TextOffsets.CodePointLength(piece);
                entities.Add(new EntitySpan(slot, piece, cp, cp + len));
            }
            sb.Append(piece);
            cp += TextOffsets.CodePointLength(piece);
        }
        return (sb.ToString(), entities);
    }

    [GeneratedRegex(@"\{([a-z_]+)\}")]
    private static partial Regex SlotMarker();
}
