using MoltBot.Contracts.Configuration;
using MoltBot.Inference.Models;
using MoltBot.Inference.Training.Corpus;
using MoltBot.Inference.Training.Loop;
using Spectre.Console;

namespace MoltBot.Cli;

/// <summary>
/// Shared console plumbing of the train/distill verbs: a Spectre.Console progress bar (loss, throughput, ETA),
/// plain progress lines when the output is not a terminal (nohup, CI), Ctrl+C → a resumable checkpoint, and
/// data/model errors turned into one-line messages.
/// </summary>
internal static class TrainingConsole
{
    public static async Task<TrainingResult> RunAsync(string title, long totalSteps, Func<Action<TrainingProgress>, CancellationToken, TrainingResult> body,
        CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            // First Ctrl+C: stop after the current step and write a checkpoint. A second one kills as usual.
            if (cts.IsCancellationRequested) return;
            e.Cancel = true;
            cts.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        // SIGTERM (kill, systemd stop) also ends the run with a checkpoint instead of losing the progress.
        using var onTerm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            cts.Cancel();
        });
        try
        {
            TrainingResult result;
            if (AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected)
            {
                result = await AnsiConsole.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                    .StartAsync(async ctx =>
                    {
                        var task = ctx.AddTask(Markup.Escape(title), maxValue: totalSteps);
                        return await RunOnOwnThread(() => body(p =>
                        {
                            task.Value = p.Step;
                            task.Description = Markup.Escape($"{title} loss {p.Loss:F4} {p.ItemsPerSecond:F0}/s ETA {p.Eta:hh\\:mm\\:ss}{(p.Note is null ? "" : " " + p.Note)}");
                        }, cts.Token));
                    });
            }
            else
            {
                long every = Math.Max(1, totalSteps / 50);
                result = await RunOnOwnThread(() => body(p =>
                {
                    if (p.Step % every == 0 || p.Note is not null || p.Step == p.TotalSteps)
                        Console.WriteLine($"{title}: step {p.Step}/{p.TotalSteps} loss {p.Loss:F4} {p.ItemsPerSecond:F0}/s ETA {p.Eta:hh\\:mm\\:ss}{(p.Note is null ? "" : " " + p.Note)}");
                }, cts.Token));
            }
            if (result.Outcome == TrainingOutcome.Interrupted)
                AnsiConsole.MarkupLine($"[yellow]interrupted at step {result.Step}[/]: checkpoint saved in {Markup.Escape(result.OutputDir)}; continue with --resume");
            else
                AnsiConsole.MarkupLine($"[green]done[/]: step {result.Step}, loss {result.FinalLoss:F4} → {Markup.Escape(result.OutputDir)}");
            foreach (var (k, v) in result.Metrics) AnsiConsole.MarkupLine($"  {Markup.Escape(k)} = {v:F4}");
            return result;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <summary>Training runs on a dedicated thread: torch grad mode and dispose scopes are per thread.</summary>
    private static Task<T> RunOnOwnThread<T>(Func<T> body)
    {
        var tcs = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                tcs.SetResult(body());
            }
            catch (Exception e)
            {
                tcs.SetException(e);
            }
        }, 256 * 1024 * 1024) { IsBackground = true, Name = "moltbot-training" };
        thread.Start();
        return tcs.Task;
    }

    /// <summary>Data and model-file problems are user errors: one line naming the file (and line), exit code 2.</summary>
    public static async Task<T> GuardAsync<T>(Func<Task<T>> body)
    {
        try
        {
            return await body();
        }
        catch (Exception e) when (e is NluDataException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException
                                      or FormatException or ModelFormatException or ArgumentException)
        {
            throw new StartupException(e.Message, e);
        }
    }

    public static void ReportSkipped(SkippedLine line) =>
        Console.Error.WriteLine($"moltbot: skipped {line.File}:{line.Line}: {line.Reason}");

    public static MalformedLinePolicy ParsePolicy(string? value) => value?.ToLowerInvariant() switch
    {
        null or "fail" => MalformedLinePolicy.Fail,
        "skip" => MalformedLinePolicy.Skip,
        _ => throw new StartupException($"--on-malformed must be 'fail' or 'skip', got '{value}'"),
    };
}
