using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using MoltBot.Channels;
using MoltBot.Contracts.Configuration;
using MoltBot.Dialog;
using MoltBot.Gateway;
using MoltBot.Inference;
using MoltBot.Memory;
using MoltBot.Pipeline;
using MoltBot.Security;
using MoltBot.Skills;
using Prometheus;
using Serilog;
using MoltBot.Contracts.Configuration.Validation;

namespace MoltBot.Hosting;

/// <summary>What a caller (the CLI, a test) may set when building the application.</summary>
public sealed class MoltBotAppOptions
{
    /// <summary>Where appsettings.json and config/ are read from and relative paths resolve; default: the working directory.</summary>
    public string? ContentRoot { get; init; }

    /// <summary>Configuration arguments (--Section:Key value, --urls ...).</summary>
    public string[] Args { get; init; } = [];

    /// <summary>Last word on services (tests add fakes here).</summary>
    public Action<WebApplicationBuilder>? Configure { get; init; }
}

/// <summary>The composition root: configuration, logging, modules, endpoints.</summary>
public static class MoltBotApp
{
    public const string DefaultUrl = "http://127.0.0.1:8080";

    public static WebApplication Build(MoltBotAppOptions options)
    {
        var timeline = new StartupTimeline();
        timeline.Mark("host build begun");
        string contentRoot = Path.GetFullPath(options.ContentRoot ?? DefaultContentRoot());
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = options.Args,
            ContentRootPath = contentRoot,
        });
        ConfigurationSetup.Apply(builder.Configuration, contentRoot, builder.Environment.EnvironmentName, options.Args);
        var config = builder.Configuration;

        // Paths and logging are needed before anything else can report; validate them here, with one-line errors.
        var storage = Bind(config, StorageOptions.Section, new StorageOptions(), static (c, o) => c.Bind(o));
        var models = Bind(config, ModelsOptions.Section, new ModelsOptions(), static (c, o) => c.Bind(o));
        var log = Bind(config, LogOptions.Section, new LogOptions(), static (c, o) => c.Bind(o));
        LoggingSetup.Validate(log);
        var paths = MoltBotPaths.Resolve(contentRoot, storage, models);

        if (string.IsNullOrEmpty(config["urls"]) && !config.GetSection("Kestrel:Endpoints").Exists())
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        var services = builder.Services;
        // Security: log lines are redacted (configured secret values, personal data) before they reach console or file.
        var redactor = MoltBot.Security.Logging.LogRedactor.FromConfiguration(config);
        // preserveStaticLogger: each host (several run in one test process) logs to its own files, not the static Log.Logger.
        services.AddSerilog((_, lc) => LoggingSetup.Configure(lc, log, paths, redactor), preserveStaticLogger: true);
        services.AddSingleton(paths);
        services.AddSingleton(TimeProvider.System);
        services.AddOptions<StorageOptions>().Bind(config.GetSection(StorageOptions.Section)).ValidateAnnotationsOnStart<StorageOptions, StorageOptionsAnnotations>();
        services.AddOptions<ModelsOptions>().Bind(config.GetSection(ModelsOptions.Section)).ValidateAnnotationsOnStart<ModelsOptions, ModelsOptionsAnnotations>();
        services.AddSingleton<IValidateOptions<ModelsOptions>>(new ModelsDirectoryValidator(contentRoot));
        services.AddHealthChecks();
        builder.Host.UseSystemd();
        // First hosted service: marks when the services start and when Kestrel listens (it starts last).
        services.AddSingleton(timeline);
        services.AddHostedService<StartupTimeline.Service>();

        var pipeline = Bind(config, PipelineOptions.Section, new PipelineOptions(), static (c, o) => c.Bind(o));
        services.Configure<HostOptions>(o =>
            o.ShutdownTimeout = TimeSpan.FromSeconds(Math.Max(0, pipeline.DrainTimeoutSeconds) + 20));

        // Modules. The pipeline goes last: hosted services stop in reverse order, so it drains before adapters close.
        services.AddMoltBotSecurity(config);
        services.AddMoltBotMemory(config);
        services.AddMoltBotInference(config);
        services.AddMoltBotSkills(config);
        services.AddMoltBotDialog(config);
        services.AddMoltBotChannels(config);
        services.AddMoltBotGateway(config);
        services.AddMoltBotPipeline(config);

        options.Configure?.Invoke(builder);

        var app = builder.Build();
        timeline.Mark("host built");
        StartModelLoading(app.Services, timeline);
        MapOperationalEndpoints(app);
        app.MapMoltBotChannels();
        app.MapMoltBotGateway();
        app.MapMoltBotSecurity();

        app.Lifetime.ApplicationStarted.Register(() =>
        {
            // Every module has started, including the inference module's remaining model loads (the server already
            // answered meanwhile: see the "listening" mark of the start-up timeline).
            timeline.Mark("all modules started");
            app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("MoltBot").LogInformation(
                "MoltBot listening on {Urls}; all modules started {Elapsed:F0} ms since process start; data in {Data}",
                string.Join(", ", app.Urls), StartupTimeline.SinceProcessStart(), paths.DataDirectory);
        });
        return app;
    }

    /// <summary>
    /// Model loading (the longest start-up step) begins as soon as the options are known to be valid, overlapping with
    /// the other modules' construction and start instead of following them. If validation fails nothing starts here:
    /// the host's own start-up validation fails the same way and reports it as the only line on stderr.
    /// </summary>
    private static void StartModelLoading(IServiceProvider services, StartupTimeline timeline)
    {
        try
        {
            services.GetService<IStartupValidator>()?.Validate();
        }
        catch (Exception)
        {
            return; // reported by the host's start (StartAsync), where callers and tests expect it
        }
        timeline.Mark("options validated");
        services.StartMoltBotInference();
    }

    private static void MapOperationalEndpoints(WebApplication app)
    {
        // Liveness: the process is up and serving HTTP.
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false });
        // Readiness: models loaded, storage open, pipeline running (checks tagged "ready"), with details.
        app.MapHealthChecks("/readyz", new HealthCheckOptions
        {
            Predicate = c => c.Tags.Contains("ready"),
            ResponseWriter = HealthResponseWriter.WriteJsonAsync,
        });
        app.MapMetrics("/metrics");
    }

    /// <param name="bind">Binds one concrete type (`c.Bind(o)`), so the configuration-binding source generator writes the code.</param>
    private static T Bind<T>(IConfiguration configuration, string section, T value, Action<IConfiguration, T> bind)
    {
        try
        {
            bind(configuration.GetSection(section), value);
        }
        catch (InvalidOperationException ex)
        {
            // e.g. "Pipeline:ShardCount = abc": the binder's message names the key, the inner one the value.
            string why = ex.InnerException is { } inner ? $"{ex.Message} ({inner.Message})" : ex.Message;
            throw new StartupException($"Configuration section '{section}': {why.ReplaceLineEndings(" ")}", ex);
        }
        return value;
    }

    /// <summary>
    /// The nearest directory holding appsettings.json, from the working directory up (dotnet run may start in the
    /// project folder MoltBot/, whose parent is the repository root); else the binary's folder (installed copy).
    /// </summary>
    private static string DefaultContentRoot()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "appsettings.json"))) return dir.FullName;
        }
        return AppContext.BaseDirectory;
    }
}

/// <summary>Models:Directory must exist: starting without models would only fail later, less clearly.</summary>
internal sealed class ModelsDirectoryValidator(string contentRoot) : IValidateOptions<ModelsOptions>
{
    public ValidateOptionsResult Validate(string? name, ModelsOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Directory)) return ValidateOptionsResult.Skip; // DataAnnotations reports it
        string full = Path.GetFullPath(options.Directory, contentRoot);
        return Directory.Exists(full)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"Models:Directory '{options.Directory}' does not exist (resolved to {full}); point it at the folder that holds the model folders (default \"models\").");
    }
}
