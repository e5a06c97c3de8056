using System.Globalization;
using System.Text;

namespace MoltBot.Bench.Load;

/// <summary>Writes results as JSON, a Markdown table and a latency CDF plot (PNG + SVG) and, for several user counts, a throughput-vs-concurrency plot under bench-results/.</summary>
public static class BenchReport
{
    public static string Write(string outDir, string name, IReadOnlyList<LoadResult> results)
    {
        Directory.CreateDirectory(outDir);
        string stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        string basePath = Path.Combine(outDir, $"{name}-{stamp}");
        File.WriteAllText(basePath + ".json", LoadGenerator.ToJson(results));
        File.WriteAllText(basePath + ".md", Markdown(results));

        var plot = new ScottPlot.Plot();
        foreach (var r in results.Where(r => r.Cdf.Count > 0))
        {
            var line = plot.Add.Scatter(r.Cdf.Select(p => p[0]).ToArray(), r.Cdf.Select(p => p[1]).ToArray());
            line.LegendText = $"{r.Settings.Scenario} K={r.Settings.Connections} rate={(r.Settings.Rate > 0 ? r.Settings.Rate : "max")}";
            line.MarkerSize = 0;
        }
        plot.Axes.Bottom.Label.Text = "latency (ms)";
        plot.Axes.Left.Label.Text = "fraction of replies";
        plot.Title("MoltBot reply latency CDF");
        plot.ShowLegend();
        plot.SavePng(basePath + "-cdf.png", 900, 500);
        plot.SaveSvg(basePath + "-cdf.svg", 900, 500);
        if (results.Select(r => r.Settings.Connections).Distinct().Count() > 1) ThroughputPlot(basePath, results);
        return basePath;
    }

    /// <summary>Throughput and p99 against the number of users: where the knee is, i.e. the sustainable load.</summary>
    private static void ThroughputPlot(string basePath, IReadOnlyList<LoadResult> results)
    {
        var ordered = results.OrderBy(r => r.Settings.Connections).ToList();
        double[] users = ordered.Select(r => (double)r.Settings.Connections).ToArray();
        var plot = new ScottPlot.Plot();
        var throughput = plot.Add.Scatter(users, ordered.Select(r => r.ThroughputPerSecond).ToArray());
        throughput.LegendText = "throughput (msg/s)";
        var p99 = plot.Add.Scatter(users, ordered.Select(r => r.P99Ms).ToArray());
        p99.LegendText = "p99 latency (ms, right axis)";
        p99.Axes.YAxis = plot.Axes.Right;
        plot.Axes.Bottom.Label.Text = "concurrent users";
        plot.Axes.Left.Label.Text = "replies per second";
        plot.Axes.Right.Label.Text = "p99 latency (ms)";
        plot.Title($"MoltBot throughput vs concurrency ({ordered[0].Settings.Scenario})");
        plot.ShowLegend();
        plot.SavePng(basePath + "-throughput.png", 900, 500);
        plot.SaveSvg(basePath + "-throughput.svg", 900, 500);
    }

    public static string Markdown(IReadOnlyList<LoadResult> results)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| scenario | users | rate (msg/s) | sent | answered | lost | dup | errors | throughput (msg/s) | p50 ms | p95 ms | p99 ms | max ms | peak RSS MB | server CPU s | reply sources | server CPU ms/msg | generator CPU ms/msg | warm-up answered/sent (lost, dup) |");
        sb.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |");
        foreach (var r in results)
        {
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Settings.Scenario} | {r.Settings.Connections} | {(r.Settings.Rate > 0 ? r.Settings.Rate.ToString(CultureInfo.InvariantCulture) : "max")} | {r.Sent} | {r.Answered} | {r.Lost} | {r.Duplicated} | {r.Errors} | {r.ThroughputPerSecond:F0} | {r.P50Ms:F2} | {r.P95Ms:F2} | {r.P99Ms:F2} | {r.MaxMs:F2} | {(r.PeakRssBytes is { } rss ? (rss / 1048576.0).ToString("F0", CultureInfo.InvariantCulture) : "-")} | {(r.CpuSeconds is { } c ? c.ToString("F1", CultureInfo.InvariantCulture) : "-")} | {string.Join(", ", r.ReplySources.Select(kv => $"{kv.Key}: {kv.Value}"))} | {PerMessage(r.CpuSeconds, r.Answered)} | {PerMessage(r.GeneratorCpuSeconds, r.Answered)} | {Warmup(r.Warmup)} |"));
        }
        return sb.ToString();
    }

    /// <summary>"-" without a warm-up; otherwise what it sent and got back, and whether the server's model loads were over before measuring.</summary>
    private static string Warmup(WarmupResult? w) => w is null ? "-"
        : $"{w.Answered}/{w.Sent} ({w.Lost}, {w.Duplicated}){(w.ModelsLoaded == false ? ", models still loading" : "")}";

    /// <summary>CPU milliseconds per answered message ("-" when unknown, e.g. an attached server without --server-pid).</summary>
    private static string PerMessage(double? cpuSeconds, int answered) =>
        cpuSeconds is { } c && answered > 0 ? (c * 1000 / answered).ToString("F3", CultureInfo.InvariantCulture) : "-";
}
