using System.CommandLine;
using MoltBot.DevTools;
using MoltBot.Hosting;

namespace MoltBot.Cli;

/// <summary>`perf TRACE` or `perf --live [URL]`: per-stage latency breakdown.</summary>
internal static class PerfVerb
{
    public static Command Create()
    {
        var trace = new Argument<string?>("trace") { Description = "A trace .jsonl file or folder.", Arity = ArgumentArity.ZeroOrOne };
        var live = new Option<string?>("--live")
        {
            Description = "Read a running MoltBot's /metrics instead (default http://127.0.0.1:8080).",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var cmd = new Command("perf", "Print the per-stage latency breakdown (p50/p95/p99) of a trace or of a running instance.") { trace, live };
        cmd.SetAction((parse, ct) => StartupErrors.GuardAsync(async () =>
        {
            if (parse.GetResult(live) is not null)
            {
                string url = parse.GetValue(live) ?? "http://127.0.0.1:8080";
                using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(10) };
                string metrics = await http.GetStringAsync("/metrics", ct);
                Console.Write(PerfReport.Format(PerfReport.FromPrometheus(metrics), maxIsBucketBound: true));
                return 0;
            }
            string? path = parse.GetValue(trace);
            if (path is null)
            {
                await Console.Error.WriteLineAsync("moltbot: perf needs a TRACE path or --live");
                return 2;
            }
            Console.Write(PerfReport.Format(PerfReport.FromTrace(await TraceFile.ReadAsync(path, ct))));
            return 0;
        }));
        return cmd;
    }
}
