using MoltBot.Contracts.Configuration;
using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;

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

    public static void Configure(LoggerConfiguration lc, LogOptions options, MoltBotPaths paths)
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
                outputTemplate: "[{Timestamp:HH:mm:ss.fff} {Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}",
                standardErrorFromLevel: LogEventLevel.Verbose);
        }
        if (options.File)
        {
            lc.WriteTo.File(new CompactJsonFormatter(), paths.Data("logs", "moltbot-.clef"),
                rollingInterval: RollingInterval.Day, retainedFileCountLimit: options.RetainedFileCount,
                buffered: false, shared: true);
        }
    }
}
