using MoltBot.Contracts.Configuration;
using Serilog;
using Serilog.Events;
using Serilog.Formatting;
using Serilog.Formatting.Compact;
using Serilog.Formatting.Display;
using MoltBot.Security.Logging;

namespace MoltBot.Hosting;

/// <summary>Configuration section "Log".</summary>
public sealed class LogOptions
{
    public const string Section = "Log";

    /// <summary>Verbose, Debug, Information, Warning, Error or Fatal.</summary>
    public string Level { get; set; } = "Information";

    /// <summary>Write compact-JSON log files under {DataDirectory}/logs.</summary>
    public bool File { get; set; } = true;

    public int RetainedFileCount { get; set; } = 14;

    /// <summary>Console output: "human" (default) or "none".</summary>
    public string Console { get; set; } = "human";
}

/// <summary>Serilog: a human-readable console and a rolling compact-JSON file, enriched from the log context.</summary>
internal static class LoggingSetup
{
    public static LogEventLevel ParseLevel(string? value)
    {
        if (Enum.TryParse<LogEventLevel>(value, ignoreCase: true, out var level) && Enum.IsDefined(level)) return level;
        throw new StartupException(
            $"Log:Level '{value}' is not a log level; use one of Verbose, Debug, Information, Warning, Error, Fatal.");
    }

    public static void Validate(LogOptions options)
    {
        ParseLevel(options.Level);
        if (options.RetainedFileCount is < 1 or > 1000)
            throw new StartupException($"Log:RetainedFileCount {options.RetainedFileCount} is out of range; allowed 1..1000.");
        if (options.Console is not ("human" or "none"))
            throw new StartupException($"Log:Console '{options.Console}' is not valid; use \"human\" or \"none\".");
    }

    /// <param name="redactor">Security module: masks configured secret values and personal data in every rendered line.</param>
    public static void Configure(LoggerConfiguration lc, LogOptions options, MoltBotPaths paths, LogRedactor redactor)
    {
        var level = ParseLevel(options.Level);
        lc.MinimumLevel.Is(level)
            .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
            .MinimumLevel.Override("Microsoft.Hosting.Lifetime", level > LogEventLevel.Information ? level : LogEventLevel.Information)
            .MinimumLevel.Override("System.Net.Http", LogEventLevel.Warning)
            // Start-up failures are printed as one line by StartupErrors (unknown ones keep their trace there).
            .MinimumLevel.Override("Microsoft.Extensions.Hosting.Internal.Host", LogEventLevel.Fatal)
            .Enrich.FromLogContext();
        if (options.Console == "human")
        {
            lc.WriteTo.Console(
                new RedactingFormatter(new MessageTemplateTextFormatter(
                    "[{Timestamp:HH:mm:ss.fff} {Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}"), redactor),
                standardErrorFromLevel: LogEventLevel.Verbose);
        }
        if (options.File)
        {
            lc.WriteTo.File(new RedactingFormatter(new CompactJsonFormatter(), redactor), paths.Data("logs", "moltbot-.clef"),
                rollingInterval: RollingInterval.Day, retainedFileCountLimit: options.RetainedFileCount,
                buffered: false, shared: true);
        }
    }
}

/// <summary>
/// Security (issue 9): renders the event with the inner formatter, then masks secrets and personal data in the
/// finished text, so exception messages and interpolated values are covered too, not just structured properties.
/// </summary>
internal sealed class RedactingFormatter(ITextFormatter inner, LogRedactor redactor) : ITextFormatter
{
    public void Format(Serilog.Events.LogEvent logEvent, TextWriter output)
    {
        using var buffer = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        inner.Format(logEvent, buffer);
        output.Write(redactor.Redact(buffer.ToString()));
    }
}
