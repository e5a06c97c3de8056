using MoltBot.Channels.Common;

namespace MoltBot.Tests.Channels;

public class MarkupTests
{
    private const string Common = "**Bold** and *italic* ~~old~~ `x<y` see [docs](https://e.com/a?b=1&c=2) <@42>";

    [Fact]
    public void Renders_the_common_markup_into_each_platform_dialect()
    {
        Assert.Equal("<b>Bold</b> and <i>italic</i> <s>old</s> <code>x&lt;y</code> see <a href=\"https://e.com/a?b=1&amp;c=2\">docs</a> <a href=\"tg://user?id=42\">@42</a>",
            Markup.ToTelegramHtml(Common));
        Assert.Equal("*Bold* and _italic_ ~old~ `x<y` see <https://e.com/a?b=1&amp;c=2|docs> <@42>", Markup.ToSlackMrkdwn(Common));
        Assert.Equal(Common, Markup.ToDiscordMarkdown(Common));
        Assert.Equal("*Bold* and _italic_ ~old~ ```x<y``` see docs (https://e.com/a?b=1&c=2) @42", Markup.ToWhatsApp(Common));
        Assert.Equal("Bold and italic old x<y see docs (https://e.com/a?b=1&c=2) @42", Markup.ToPlainText(Common));
    }

    [Fact]
    public void Code_blocks_are_never_rewritten()
    {
        string text = "```py\nprint(2**3 * 4)\n```";
        Assert.Equal("<pre>print(2**3 * 4)</pre>", Markup.ToTelegramHtml(text));
        Assert.Equal(text, Markup.ToSlackMrkdwn(text));
        Assert.Equal("print(2**3 * 4)", Markup.ToPlainText(text));
    }

    [Fact]
    public void Inbound_dialects_convert_to_the_common_markup()
    {
        Assert.Equal("**b** *i* ~~s~~ [l](https://x.y/?a=1&b=2) <@U1> #general", Markup.FromSlackMrkdwn("*b* _i_ ~s~ <https://x.y/?a=1&amp;b=2|l> <@U1> <#C1|general>"));
        Assert.Equal("**b** *i* ~~s~~", Markup.FromWhatsApp("*b* _i_ ~s~"));
        Assert.Equal("hi <@123> and <@456>", Markup.FromDiscord("hi <@!123> and <@456>"));
    }

    [Fact]
    public void Long_replies_split_at_paragraph_line_and_word_boundaries_within_the_limit()
    {
        string paragraph = string.Join(' ', Enumerable.Repeat("word", 300)); // 1499 chars
        string text = paragraph + "\n\n" + paragraph + "\n\n" + paragraph;
        var parts = Markup.SplitRendered(text, 2000, Markup.ToDiscordMarkdown);
        Assert.Equal(3, parts.Count);
        Assert.All(parts, p => Assert.Equal(paragraph, p));

        string noBreaks = new('x', 4500);
        var hard = Markup.SplitRendered(noBreaks, 2000, s => s);
        Assert.Equal([2000, 2000, 500], hard.Select(p => p.Length));
    }

    [Fact]
    public void Splitting_accounts_for_rendering_that_makes_text_longer()
    {
        // Every '<' becomes "&lt;" in Telegram HTML: 4 chars each.
        string text = string.Join(' ', Enumerable.Repeat("<<<<", 1000));
        var parts = Markup.SplitRendered(text, 4096, Markup.ToTelegramHtml);
        Assert.All(parts, p => Assert.True(p.Length <= 4096, $"part of {p.Length} chars"));
        Assert.Equal(4000, string.Concat(parts).Split("&lt;").Length - 1);
    }
}
