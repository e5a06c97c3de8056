using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace MoltBot.DevTools.Sandbox;

/// <summary>
/// The live, readable transcript of a sandbox run: one line per message (platform, conversation, text in → reply
/// out, latency, ✓ or what failed), then the per-platform summary. Lines come from many tasks: writes are serialized.
/// </summary>
public sealed class SandboxTranscript(IAnsiConsole console)
{
    private const int MaxShown = 70;
    private readonly Lock _gate = new();
    private readonly long _started = Stopwatch.GetTimestamp();

    private static readonly Dictionary<string, string> Colors = new()
    {
        ["whatsapp"] = "green", ["imessage"] = "deepskyblue1", ["telegram"] = "dodgerblue1",
        ["discord"] = "mediumpurple1", ["slack"] = "orange1", ["web"] = "yellow",
    };

    public void Header(string moltBotUrl, IEnumerable<(string Platform, string Url)> platforms, string dataDirectory)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumn("platform").AddColumn("fake server (127.0.0.1)");
        foreach (var (platform, url) in platforms) table.AddRow(Platform(platform), Markup.Escape(url));
        Write(() =>
        {
            console.MarkupLine($"[bold]MoltBot sandbox[/]: MoltBot on [link]{Markup.Escape(moltBotUrl)}[/] (web chat page), data in {Markup.Escape(dataDirectory)}");
            console.Write(table);
        });
    }

    public void Line(string markup) => Write(() => console.MarkupLine(markup));

    internal void Step(string platform, string conversation, string user, string? reply, double? ms, IReadOnlyList<string> problems)
    {
        string outcome = problems.Count == 0 ? "[green]✓[/]" : "[red]✗ " + Markup.Escape(string.Join("; ", problems)) + "[/]";
        string replyPart = reply is null ? "[red](no reply)[/]" : Markup.Escape(Short(reply));
        string latency = ms is { } v ? $"[grey]{v.ToString("F0", CultureInfo.InvariantCulture)} ms[/] " : "";
        Line($"{Prefix(platform, conversation)} {Markup.Escape(Short(user))} [grey]→[/] {replyPart} {latency}{outcome}");
    }

    internal void Late(string platform, string conversation, string text) =>
        Line($"{Prefix(platform, conversation)} [yellow]late reply[/] {Markup.Escape(Short(text))}");

    internal void Duplicate(string platform, string conversation, string text) =>
        Line($"{Prefix(platform, conversation)} [red]DUPLICATE reply[/] {Markup.Escape(Short(text))}");

    internal void Unsolicited(string platform, string conversation, string text) =>
        Line($"{Prefix(platform, conversation)} [blue]MoltBot wrote[/] {Markup.Escape(Short(text))}");

    public void Summary(SandboxReport report)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("sandbox summary");
        foreach (var c in new[] { "platform", "sent", "answered", "lost", "dup", "late", "failed", "p50 ms", "p95 ms" })
        {
            table.AddColumn(new TableColumn(c) { Alignment = c == "platform" ? Justify.Left : Justify.Right });
        }
        foreach (var p in report.Platforms)
        {
            table.AddRow(Platform(p.Platform), N(p.Sent), N(p.Answered), Bad(p.Lost), Bad(p.Duplicated), N(p.Late), Bad(p.FailedExpectations),
                Ms(p.P50Ms), Ms(p.P95Ms));
        }
        var all = report.Platforms.SelectMany(p => p.LatenciesMs).ToList();
        var total = new PlatformResult("all", report.Platforms.Sum(p => p.Sent), report.Platforms.Sum(p => p.Answered), report.Platforms.Sum(p => p.Lost),
            report.Platforms.Sum(p => p.Duplicated), report.Platforms.Sum(p => p.Late), report.Platforms.Sum(p => p.Unsolicited),
            report.Platforms.Sum(p => p.FailedExpectations), all);
        table.AddRow("[bold]all[/]", N(total.Sent), N(total.Answered), Bad(total.Lost), Bad(total.Duplicated), N(total.Late), Bad(total.FailedExpectations),
            Ms(total.P50Ms), Ms(total.P95Ms));
        Write(() =>
        {
            console.WriteLine();
            console.Write(table);
            foreach (var f in report.Failures)
            {
                console.MarkupLine($"[red]FAIL[/] {Platform(f.Platform)} {Markup.Escape(f.Conversation)} story \"{Markup.Escape(f.Story)}\" step {f.Step} " +
                                   $"(\"{Markup.Escape(Short(f.User))}\"): {Markup.Escape(f.Reason)}");
            }
            if (report.Platforms.Sum(p => p.Skipped) is > 0 and int skipped)
            {
                console.MarkupLine($"[yellow]{skipped} step(s) not sent[/]: their conversation had lost a reply before");
            }
            console.MarkupLine(report.Passed
                ? $"[green bold]PASSED[/]: {total.Answered} of {total.Sent} message(s) answered once, every expectation met"
                : $"[red bold]FAILED[/]: {total.Lost} lost, {total.Duplicated} duplicated, {total.FailedExpectations} failed expectation(s)");
        });
    }

    private string Prefix(string platform, string conversation)
    {
        double s = Stopwatch.GetElapsedTime(_started).TotalSeconds;
        return $"[grey]{s.ToString("00.000", CultureInfo.InvariantCulture)}[/] {Platform(platform)} [grey]{Markup.Escape(conversation)}[/]";
    }

    private static string Platform(string name) =>
        $"[{Colors.GetValueOrDefault(name, "white")}]{Markup.Escape(name.PadRight(8))}[/]";

    private static string Short(string text)
    {
        string oneLine = text.ReplaceLineEndings(" ⏎ ");
        return oneLine.Length <= MaxShown ? oneLine : oneLine[..(MaxShown - 1)] + "…";
    }

    private static string N(int n) => n.ToString(CultureInfo.InvariantCulture);
    private static string Bad(int n) => n == 0 ? "0" : $"[red]{n.ToString(CultureInfo.InvariantCulture)}[/]";
    private static string Ms(double? ms) => ms is { } v ? v.ToString("F0", CultureInfo.InvariantCulture) : "-";

    private void Write(Action write)
    {
        lock (_gate) write();
    }
}
