using System.Text;
using System.Text.RegularExpressions;

namespace MoltBot.Inference.Training.Corpus;

/// <summary>
/// A small generative grammar for slot values ("value = call &lt;person&gt; | buy &lt;grocery&gt;"): one rule per line,
/// alternatives separated by "|", "&lt;name&gt;" refers to another rule, "~" is the empty alternative, and a rule
/// named twice gets the alternatives of both lines. "value" is the start rule. Composing values from parts gives
/// thousands of distinct slot values from a few short lists, so a model must copy them instead of memorising them.
/// </summary>
public sealed partial class SlotGrammar
{
    public const string StartRule = "value";
    private readonly Dictionary<string, List<string>> rules;
    private readonly string file;

    private SlotGrammar(string file, Dictionary<string, List<string>> rules)
    {
        this.file = file;
        this.rules = rules;
    }

    /// <summary>Parses a grammar file; throws with file and line on a malformed line or an undefined rule.</summary>
    public static SlotGrammar Load(string file)
    {
        var rules = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        int lineNo = 0;
        foreach (var raw in File.ReadLines(file))
        {
            lineNo++;
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            int eq = line.IndexOf('=');
            string name = eq > 0 ? line[..eq].Trim() : "";
            if (!RuleName().IsMatch(name)) throw new NluDataException(file, lineNo, "a grammar line must be \"name = alternative | alternative\"");
            if (!rules.TryGetValue(name, out var alts)) rules[name] = alts = [];
            foreach (var alt in line[(eq + 1)..].Split('|'))
            {
                string a = alt.Trim();
                if (a.Length == 0) throw new NluDataException(file, lineNo, "empty alternative (write ~ for an intentionally empty one)");
                alts.Add(a == "~" ? "" : a);
            }
        }
        if (!rules.ContainsKey(StartRule)) throw new InvalidDataException($"slot grammar '{file}' has no \"{StartRule} = ...\" rule");
        foreach (var (name, alts) in rules)
            foreach (Match m in alts.SelectMany(a => Reference().Matches(a)))
                if (!rules.ContainsKey(m.Groups[1].Value))
                    throw new InvalidDataException($"slot grammar '{file}': rule \"{name}\" refers to undefined <{m.Groups[1].Value}>");
        return new SlotGrammar(file, rules);
    }

    /// <summary>Every distinct value the grammar produces (throws past <paramref name="limit"/>: a typo'd product).</summary>
    public IReadOnlyList<string> Enumerate(int limit = 200_000)
    {
        var memo = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var result = Expand(StartRule, memo, limit, depth: 0).Select(Normalize).Where(v => v.Length > 0).Distinct(StringComparer.Ordinal).ToList();
        return result;
    }

    /// <summary>One value: a uniform choice among the alternatives at every rule, so small branches are not drowned by large ones.</summary>
    public string Sample(Random rng) => Normalize(SampleRule(StartRule, rng, depth: 0));

    private List<string> Expand(string rule, Dictionary<string, List<string>> memo, int limit, int depth)
    {
        if (memo.TryGetValue(rule, out var done)) return done;
        if (depth > 32) throw new InvalidDataException($"slot grammar '{file}': rule <{rule}> is recursive");
        var values = new List<string>();
        foreach (var alt in rules[rule])
        {
            var partial = new List<string> { "" };
            int pos = 0;
            foreach (Match m in Reference().Matches(alt))
            {
                string literal = alt[pos..m.Index];
                var sub = Expand(m.Groups[1].Value, memo, limit, depth + 1);
                if ((long)partial.Count * sub.Count > limit) throw new InvalidDataException($"slot grammar '{file}': rule <{rule}> yields more than {limit} values");
                partial = partial.SelectMany(p => sub.Select(s => p + literal + s)).ToList();
                pos = m.Index + m.Length;
            }
            string tail = alt[pos..];
            values.AddRange(partial.Select(p => p + tail));
            if (values.Count > limit) throw new InvalidDataException($"slot grammar '{file}': rule <{rule}> yields more than {limit} values");
        }
        memo[rule] = values;
        return values;
    }

    private string SampleRule(string rule, Random rng, int depth)
    {
        if (depth > 32) throw new InvalidDataException($"slot grammar '{file}': rule <{rule}> is recursive");
        var alts = rules[rule];
        string alt = alts[rng.Next(alts.Count)];
        var sb = new StringBuilder();
        int pos = 0;
        foreach (Match m in Reference().Matches(alt))
        {
            sb.Append(alt, pos, m.Index - pos).Append(SampleRule(m.Groups[1].Value, rng, depth + 1));
            pos = m.Index + m.Length;
        }
        return sb.Append(alt, pos, alt.Length - pos).ToString();
    }

    // Optional English parts leave double spaces or " ," behind; Chinese grammars use no spaces at all.
    private static string Normalize(string v) => SpaceBeforePunctuation().Replace(Spaces().Replace(v, " "), "$1").Trim();

    [GeneratedRegex(@"<([a-z_][a-z0-9_]*)>")]
    private static partial Regex Reference();

    [GeneratedRegex(@"^[a-z_][a-z0-9_]*$")]
    private static partial Regex RuleName();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();

    [GeneratedRegex(@" ([,.])")]
    private static partial Regex SpaceBeforePunctuation();
}
