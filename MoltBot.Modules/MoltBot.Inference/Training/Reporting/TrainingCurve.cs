using System.Text.Json;
using System.Text.Json.Nodes;
using ScottPlot;

namespace MoltBot.Inference.Training.Reporting;

/// <summary>
/// The record of a training run: every logged step, written as metrics.json and plotted as training-curve.png
/// (and .svg) next to the checkpoint. The JSON is reloaded on resume so the curve covers the whole run.
/// </summary>
public sealed class TrainingCurve
{
    public const string MetricsFile = "metrics.json";
    public const string PlotFile = "training-curve.png";
    public const string SvgFile = "training-curve.svg";

    private readonly List<TrainingPoint> points = [];

    public TrainingCurve(string title, string metricName)
    {
        Title = title;
        MetricName = metricName;
    }

    public string Title { get; }
    public string MetricName { get; }
    public IReadOnlyList<TrainingPoint> Points => points;
    public JsonObject Summary { get; } = [];

    public void Add(TrainingPoint point) => points.Add(point);

    /// <summary>Loads the points of an earlier run from <paramref name="dir"/> (no file: starts empty).</summary>
    public void LoadFrom(string dir)
    {
        string file = Path.Combine(dir, MetricsFile);
        if (!File.Exists(file)) return;
        var root = JsonNode.Parse(File.ReadAllText(file)) as JsonObject;
        if (root?["points"] is not JsonArray arr) return;
        points.Clear();
        foreach (var p in arr.OfType<JsonObject>())
            points.Add(new TrainingPoint((long)p["step"]!, (double)p["loss"]!, (double?)p["lr"] ?? 0, (double?)p["items_per_s"] ?? 0,
                (double?)p["eval_loss"], (double?)p["eval_metric"]));
    }

    public void Save(string dir)
    {
        Directory.CreateDirectory(dir);
        var arr = new JsonArray();
        foreach (var p in points)
        {
            var o = new JsonObject { ["step"] = p.Step, ["loss"] = Math.Round(p.Loss, 6), ["lr"] = p.LearningRate, ["items_per_s"] = Math.Round(p.ItemsPerSecond, 2) };
            if (p.EvalLoss is { } el) o["eval_loss"] = Math.Round(el, 6);
            if (p.EvalMetric is { } em) o["eval_metric"] = Math.Round(em, 6);
            arr.Add(o);
        }
        var root = new JsonObject { ["title"] = Title, ["metric"] = MetricName, ["summary"] = Summary.DeepClone(), ["points"] = arr };
        File.WriteAllText(Path.Combine(dir, MetricsFile), root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        Plot(dir);
    }

    private void Plot(string dir)
    {
        using var plot = new Plot();
        plot.Title(Title);
        plot.XLabel("step");
        plot.YLabel("loss");
        if (points.Count > 0)
        {
            var loss = plot.Add.Scatter(points.Select(p => (double)p.Step).ToArray(), points.Select(p => p.Loss).ToArray());
            loss.LegendText = "train loss";
            loss.MarkerSize = 0;
            var evals = points.Where(p => p.EvalLoss is not null).ToArray();
            if (evals.Length > 0)
            {
                var ev = plot.Add.Scatter(evals.Select(p => (double)p.Step).ToArray(), evals.Select(p => p.EvalLoss!.Value).ToArray());
                ev.LegendText = "held-out loss";
            }
            var metric = points.Where(p => p.EvalMetric is not null).ToArray();
            if (metric.Length > 0)
            {
                var right = plot.Axes.Right;
                var m = plot.Add.Scatter(metric.Select(p => (double)p.Step).ToArray(), metric.Select(p => p.EvalMetric!.Value).ToArray());
                m.Axes.YAxis = right;
                m.LegendText = MetricName;
                right.Label.Text = MetricName;
            }
            plot.ShowLegend();
        }
        plot.SavePng(Path.Combine(dir, PlotFile), 800, 500);
        plot.SaveSvg(Path.Combine(dir, SvgFile), 800, 500);
    }
}
