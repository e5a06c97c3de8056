using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace MoltBot.Channels.Common;

/// <summary>
/// MoltBot's common markup (docs/envelope.md): a CommonMark subset — **bold**, *italic*, ~~strike~~, `code`,
/// ```pre```, [label](url) — plus mentions written &lt;@user-id&gt;. Inbound text is converted to it, outbound
/// text is rendered from it into each platform's dialect. Code spans are never rewritten.
/// </summary>
public static partial class Markup
{
    [GeneratedRegex(@"```[\s\S]*?```|`[^`\n]+`")]
    private static partial Regex CodeSpans();

    [GeneratedRegex(@"\*\*(.+?)\*\*")]
    private static partial Regex Bold();

    [GeneratedRegex(@"(?<![\*\w])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\*\w])")]
    private static partial Regex Italic();

    [GeneratedRegex(@"~~(.+?)~~")]
    private static partial Regex Strike();

    [GeneratedRegex(@"\[([^\]\n]+)\]\(([^)\s]+)\)")]
    private static partial Regex Link();

    [GeneratedRegex(@"<@([\w.\-+:]+)>")]
    private static partial Regex Mention();

    /// <summary>Applies <paramref name="prose"/> to the text outside code spans and <paramref name="code"/> to the code spans.</summary>
    public static string MapOutsideCode(string text, Func<string, string> prose, Func<string, string>? code = null)
    {
        var sb = new StringBuilder(text.Length + 16);
        int last = 0;
        foreach (Match m in CodeSpans().Matches(text))
        {
            sb.Append(prose(text[last..m.Index]));
            sb.Append(code is null ? m.Value : code(m.Value));
            last = m.Index + m.Length;
        }
        sb.Append(prose(text[last..]));
        return sb.ToString();
    }

    // ---------- outbound renderers ----------

    /// <summary>Telegram HTML parse mode (safer than MarkdownV2, whose escaping rules reject many plain texts).</summary>
    public static string ToTelegramHtml(string text) => MapOutsideCode(text,
        prose =>
        {
            string s = WebUtility.HtmlEncode(prose);
            s = Link().Replace(s, "<a href=\"$2\">$1</a>");
            s = Bold().Replace(s, "<b>$1</b>");
            s = Italic().Replace(s, "<i>$1</i>");
            s = Strike().Replace(s, "<s>$1</s>");
            s = Regex.Replace(s, @"&lt;@(\d+)&gt;", "<a href=\"tg://user?id=$1\">@$1</a>");
            return s;
        },
        code => code.StartsWith("```", StringComparison.Ordinal)
            ? "<pre>" + WebUtility.HtmlEncode(StripFence(code)) + "</pre>"
            : "<code>" + WebUtility.HtmlEncode(code[1..^1]) + "</code>");

    /// <summary>Slack mrkdwn: *bold*, _italic_, ~strike~, &lt;url|label&gt;, &lt;@U…&gt;; &amp; &lt; &gt; escaped.</summary>
    public static string ToSlackMrkdwn(string text) => MapOutsideCode(text, prose =>
    {
        var mentions = new List<string>();
        string s = Mention().Replace(prose, m => { mentions.Add(m.Groups[1].Value); return "\u0001" + (mentions.Count - 1) + "\u0002"; });
        s = s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
        s = Link().Replace(s, "<$2|$1>");
        s = Italic().Replace(s, "_$1_");
        s = Bold().Replace(s, "*$1*");
        s = Strike().Replace(s, "~$1~");
        return Regex.Replace(s, "\u0001(\\d+)\u0002", m => "<@" + mentions[int.Parse(m.Groups[1].Value)] + ">");
    });

    /// <summary>Discord speaks Markdown and &lt;@id&gt; mentions natively.</summary>
    public static string ToDiscordMarkdown(string text) => text;

    /// <summary>WhatsApp: *bold*, _italic_, ~strike~, ```mono```; links written as "label (url)", mentions as @id.</summary>
    public static string ToWhatsApp(string text) => MapOutsideCode(text, prose =>
    {
        string s = Link().Replace(prose, m => m.Groups[1].Value == m.Groups[2].Value ? m.Groups[2].Value : $"{m.Groups[1].Value} ({m.Groups[2].Value})");
        s = Italic().Replace(s, "_$1_");
        s = Bold().Replace(s, "*$1*");
        s = Strike().Replace(s, "~$1~");
        return Mention().Replace(s, "@$1");
    }, code => code.StartsWith("```", StringComparison.Ordinal) ? code : "```" + code[1..^1] + "```");

    /// <summary>iMessage shows plain text: markers removed, links as "label (url)", mentions as @id.</summary>
    public static string ToPlainText(string text) => MapOutsideCode(text, prose =>
    {
        string s = Link().Replace(prose, m => m.Groups[1].Value == m.Groups[2].Value ? m.Groups[2].Value : $"{m.Groups[1].Value} ({m.Groups[2].Value})");
        s = Bold().Replace(s, "$1");
        s = Italic().Replace(s, "$1");
        s = Strike().Replace(s, "$1");
        return Mention().Replace(s, "@$1");
    }, code => code.StartsWith("```", StringComparison.Ordinal) ? StripFence(code) : code[1..^1]);

    private static string StripFence(string code)
    {
        string inner = code[3..^3];
        int nl = inner.IndexOf('\n');
        // ```lang\n...``` : drop the language tag line.
        if (nl >= 0 && !inner[..nl].Contains(' ')) inner = inner[(nl + 1)..];
        return inner.TrimEnd('\n');
    }

    // ---------- inbound converters ----------

    [GeneratedRegex(@"<([^<>|\s]+)(?:\|([^<>]*))?>")]
    private static partial Regex SlackAngle();

    /// <summary>Slack mrkdwn → common markup.</summary>
    public static string FromSlackMrkdwn(string text)
    {
        string s = MapOutsideCode(text, prose =>
        {
            var tokens = new List<string>();
            string t = SlackAngle().Replace(prose, m =>
            {
                string target = Unescape(m.Groups[1].Value), label = Unescape(m.Groups[2].Value);
                string token = target switch
                {
                    _ when target.StartsWith("@", StringComparison.Ordinal) => "<@" + target[1..] + ">",
                    _ when target.StartsWith("#", StringComparison.Ordinal) => "#" + (label.Length > 0 ? label : target[1..]),
                    _ when target.StartsWith("!", StringComparison.Ordinal) => "@" + (label.Length > 0 ? label : target[1..]),
                    _ => label.Length > 0 ? $"[{label}]({target})" : target,
                };
                tokens.Add(token);
                return "\u0001" + (tokens.Count - 1) + "\u0002";
            });
            t = Regex.Replace(t, @"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])", "**$1**");
            t = Regex.Replace(t, @"(?<![\w_])_(?!\s)([^_\n]+?)(?<!\s)_(?![\w_])", "*$1*");
            t = Regex.Replace(t, @"(?<![\w~])~(?!\s)([^~\n]+?)(?<!\s)~(?![\w~])", "~~$1~~");
            t = t.Replace("&lt;", "<").Replace("&gt;", ">").Replace("&amp;", "&");
            return Regex.Replace(t, "\u0001(\\d+)\u0002", m => tokens[int.Parse(m.Groups[1].Value)]);
        }, code => code.Replace("&lt;", "<").Replace("&gt;", ">").Replace("&amp;", "&"));
        return s;
    }

    private static string Unescape(string s) => s.Replace("&lt;", "<").Replace("&gt;", ">").Replace("&amp;", "&");

    /// <summary>WhatsApp formatting → common markup.</summary>
    public static string FromWhatsApp(string text) => MapOutsideCode(text, prose =>
    {
        string t = Regex.Replace(prose, @"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])", "**$1**");
        t = Regex.Replace(t, @"(?<![\w_])_(?!\s)([^_\n]+?)(?<!\s)_(?![\w_])", "*$1*");
        return Regex.Replace(t, @"(?<![\w~])~(?!\s)([^~\n]+?)(?<!\s)~(?![\w~])", "~~$1~~");
    });

    /// <summary>Discord is Markdown already; only the nickname mention form &lt;@!id&gt; is folded into &lt;@id&gt;.</summary>
    public static string FromDiscord(string text) => MapOutsideCode(text, prose => prose.Replace("<@!", "<@"));

    // ---------- splitting ----------

    /// <summary>
    /// Splits text into chunks whose rendered form fits <paramref name="limit"/> characters, preferring paragraph,
    /// then line, then word boundaries.
    /// </summary>
    public static IReadOnlyList<string> SplitRendered(string text, int limit, Func<string, string> render)
    {
        var result = new List<string>();
        var queue = new Queue<string>(Split(text, limit));
        while (queue.TryDequeue(out var chunk))
        {
            string rendered = render(chunk);
            if (rendered.Length <= limit || chunk.Length <= 1)
            {
                if (rendered.Trim().Length > 0) result.Add(rendered.Length <= limit ? rendered : rendered[..limit]);
                continue;
            }
            // Rendering made it longer (HTML tags, escapes): split this chunk smaller and try again.
            foreach (var smaller in Split(chunk, Math.Max(1, chunk.Length * limit / rendered.Length - 1))) queue.Enqueue(smaller);
        }
        if (result.Count == 0) result.Add(render(text.Length == 0 ? " " : text));
        return result;
    }

    public static IReadOnlyList<string> Split(string text, int limit)
    {
        var parts = new List<string>();
        string rest = text;
        while (rest.Length > limit)
        {
            int cut = LastBoundary(rest, limit, "\n\n");
            if (cut <= limit / 3) cut = LastBoundary(rest, limit, "\n");
            if (cut <= limit / 3) cut = LastBoundary(rest, limit, " ");
            if (cut <= 0) cut = limit;
            if (char.IsHighSurrogate(rest[cut - 1])) cut--; // never split a surrogate pair
            parts.Add(rest[..cut].TrimEnd());
            rest = rest[cut..].TrimStart('\n', ' ');
        }
        if (rest.Length > 0 || parts.Count == 0) parts.Add(rest);
        return parts;
    }

    private static int LastBoundary(string s, int limit, string sep)
    {
        int i = s.LastIndexOf(sep, Math.Min(limit, s.Length - 1), StringComparison.Ordinal);
        return i < 0 ? -1 : i + (sep == " " ? 0 : sep.Length);
    }
}
