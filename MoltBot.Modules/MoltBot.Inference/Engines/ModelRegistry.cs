using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Admin;
using MoltBot.Contracts.Configuration;
using MoltBot.Contracts.Inference;
using MoltBot.Inference.Kernels;
using MoltBot.Inference.Models;
using TorchSharp;

namespace MoltBot.Inference.Engines;

/// <summary>
/// Loads the four model folders (teacher/student × NLU/LM) from Models:Directory, publishes them as one
/// <see cref="ModelSet"/>, and swaps in a fresh set on reload while the old one finishes its requests.
/// Start-up is staged so the first reply does not wait for models it does not need: the native library, the int8
/// kernel and the primary NLU model (the one every message goes through) load first and are published as a partial
/// set (<see cref="PrimaryReady"/>); the other models then load in parallel — after the first reply, a request that
/// needs one of them, or Inference:SecondaryLoadDelayMs — and the complete set replaces it (<see cref="Loaded"/>).
/// Until then /readyz says which models are still loading. Start-up loads run with one OpenMP thread (<see cref="LoaderThreads"/>).
/// </summary>
internal sealed class ModelRegistry(IOptions<InferenceOptions> options, MoltBotPaths paths, ILoggerFactory loggers) : IModelCatalog, IModelAdmin, IDisposable, IAsyncDisposable
{
    private readonly ILogger logger = loggers.CreateLogger<ModelRegistry>();
    private readonly MoltBotPaths paths = paths;
    private readonly ILoggerFactory loggers = loggers;
    private readonly SemaphoreSlim reloadGate = new(1, 1);
    private readonly TaskCompletionSource primaryReady = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource secondaryWanted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource secondaryStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    // Set when the host stops: deferred loads that have not begun do not begin (see StopLoadingAsync).
    private readonly TaskCompletionSource stopRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);
    // Completes when the start-up load's thread has left native code for good, whatever its outcome.
    private readonly TaskCompletionSource startupLoadEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ModelSet current = ModelSet.Empty;
    private Int8KernelChoice? kernel;
    private int startupBegun;
    private int disposed;

    public bool IsLoaded => loaded.Task.IsCompletedSuccessfully;
    /// <summary>Completes when the primary NLU model serves (faults with the start-up error).</summary>
    public Task PrimaryReady => primaryReady.Task;
    /// <summary>Completes when every configured model is loaded (faults with the start-up error).</summary>
    public Task Loaded => loaded.Task;
    /// <summary>Model ids still loading at start-up (empty once <see cref="Loaded"/>).</summary>
    public IReadOnlyList<string> Pending { get; private set; } = [];
    public ModelSet Current => Volatile.Read(ref current);
    public IReadOnlyList<ModelInfo> Models => Current.Infos;
    public torch.Device? Device { get; private set; }
    public string? KernelName => kernel?.Kernel.Name;
    /// <summary>Test hook: awaited between publishing the primary NLU model and loading the others.</summary>
    internal Func<Task>? SecondaryLoadGate { get; set; }

    /// <summary>A set the caller may use until it calls Release (retries if a reload retires it meanwhile).</summary>
    public ModelSet Acquire()
    {
        while (true)
        {
            var set = Current;
            if (set.TryAcquire()) return set;
        }
    }

    /// <summary>
    /// Waits until every model is loaded (rethrows the start-up error if loading failed). The caller needs them: the
    /// deferred secondary loads begin now if they have not yet (see <see cref="InferenceOptions.SecondaryLoadDelayMs"/>).
    /// </summary>
    public Task WhenLoadedAsync(CancellationToken cancellationToken)
    {
        if (IsLoaded) return Task.CompletedTask;
        LoadSecondaryModelsNow();
        return StartLoading().WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Lets the start-up load go on with the models after the primary NLU model: called when the first reply has been
    /// sent (<see cref="SecondaryLoadsAfterFirstReply"/>) or when a request needs one of them. No effect once they are loading.
    /// </summary>
    public void LoadSecondaryModelsNow() => secondaryWanted.TrySetResult();

    /// <summary>True once the secondary loads were asked for (first reply, a request that needs them), not just timed out.</summary>
    internal bool SecondaryLoadsRequested => secondaryWanted.Task.IsCompleted;

    /// <summary>Completes when the start-up load begins the models after the primary one (read by tests).</summary>
    internal Task SecondaryLoadsStarted => secondaryStarted.Task;

    /// <summary>Waits until the primary NLU model is published (starts loading if nothing did yet).</summary>
    public Task WhenPrimaryReadyAsync(CancellationToken cancellationToken)
    {
        if (primaryReady.Task.IsCompletedSuccessfully) return Task.CompletedTask;
        StartLoading();
        return primaryReady.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// First load at start-up, on a background thread; returns the task of the complete load. The host calls it as soon
    /// as the service provider is built (<see cref="InferenceModule.StartMoltBotInference"/>), so the load overlaps with
    /// constructing and starting the other modules; the hosted <see cref="InferenceStartup"/> calls it again (no-op).
    /// </summary>
    /// <summary>
    /// Called when the host stops: the deferred secondary loads no longer begin, and this waits (up to the host's
    /// shutdown timeout) for loads already running. A process that exits while another thread is inside libtorch
    /// loading a model can crash in libtorch's own teardown (SIGTERM about a second after start-up ended with a
    /// segmentation fault), and disposing the registry under a running load would free what it still uses.
    /// </summary>
    public async Task StopLoadingAsync(CancellationToken cancellationToken)
    {
        stopRequested.TrySetResult();
        if (Volatile.Read(ref startupBegun) == 0) return;
        try
        {
            await startupLoadEnded.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Stopping while the models are still loading: not waiting any longer");
        }
    }

    /// <summary>True when the host stopped before the deferred secondary loads began, so they never did (read by tests).</summary>
    internal bool SecondaryLoadsSkippedAtStop { get; private set; }

    public Task StartLoading()
    {
        if (Interlocked.Exchange(ref startupBegun, 1) == 0)
            _ = Task.Run(LoadAtStartupAsync);
        return loaded.Task;
    }

    /// <summary>
    /// Native library, threads, device, int8 kernel, primary NLU (published and warmed up), then the rest in parallel.
    /// Timings of each step are logged: they are the start-up breakdown docs/performance.md refers to.
    /// </summary>
    private async Task LoadAtStartupAsync()
    {
        try
        {
            var o = options.Value;
            var sw = Stopwatch.StartNew();
            var timings = new List<string>();
            void Step(string what)
            {
                timings.Add($"{what} {sw.Elapsed.TotalMilliseconds:F0} ms");
                sw.Restart();
            }
            NativeHeap.LimitArenas(o.MallocArenas); // before libtorch's threads start allocating
            try
            {
                // The first torch call loads libtorch (hundreds of MB of native code): timed on its own.
                if (o.Threads > 0) torch.set_num_threads(o.Threads);
                else _ = torch.get_num_threads();
                Step("native library");
                Device = o.Device switch
                {
                    "cuda" when !torch.cuda.is_available() => throw new StartupException("Inference:Device is 'cuda' but no CUDA device is available (build with -p:MoltBotTorchBackend=cuda on a GPU host, or set Inference:Device to cpu or auto)."),
                    "cuda" => torch.CUDA,
                    "auto" => torch.cuda.is_available() ? torch.CUDA : torch.CPU,
                    _ => torch.CPU,
                };
                // Start-up loads run with one OpenMP thread (see LoaderThreads): no spinning team on the host's core.
                kernel = LoaderThreads.RunSingleThreaded(() => Int8KernelSelector.Select(o.Int8Kernel));
                Step("int8 kernel compile + self-test");
            }
            catch (Exception ex) when (ex is DllNotFoundException or TypeInitializationException or BadImageFormatException)
            {
                throw new StartupException(NativeLibraryMessage, ex);
            }
            if (o.Int8Kernel == "fbgemm" && kernel.Kernel is not FbgemmInt8Kernel)
                throw new StartupException($"Inference:Int8Kernel is 'fbgemm' but {kernel.Reason}.");
            logger.LogInformation("Inference: device {Device}, {Threads} torch threads, int8 kernel {Kernel} ({Reason})",
                Device.type, torch.get_num_threads(), kernel.Kernel.Name, kernel.Reason);
            if (o.TeacherPrecision == "bf16" && !CpuFeatures.HasBf16Gemm && Device.type == DeviceType.CPU)
                logger.LogWarning("Inference:TeacherPrecision is bf16 but this CPU has neither AVX-512 BF16 nor AMX: BF16 GEMMs are emulated and slower than FP32");

            var loader = new Loader(this, o);
            string primaryId = PrimaryNluId(o);
            Pending = Ids(o).ToList();
            var primary = string.IsNullOrEmpty(primaryId) ? null : LoaderThreads.RunSingleThreaded(() => loader.Nlu(primaryId));
            if (primary is not null)
            {
                Step($"{primaryId} load");
                Pending = Ids(o).Where(id => id != primaryId).ToList();
                Publish(loader.Build(primaryId == o.TeacherNlu ? primary : null, primaryId == o.StudentNlu ? primary : null, null, null, partial: true));
                LoaderThreads.RunSingleThreaded(() => Warmup(primary));
                Step($"{primaryId} warm-up");
            }
            primaryReady.TrySetResult();
            if (SecondaryLoadGate is { } gate) await gate();
            if (primary is not null && o.SecondaryLoadDelayMs > 0 && Pending.Count > 0)
            {
                // The first reply gets the CPU (2 cores: the host's start, the request, its JIT) before the models it
                // does not need; a request that needs one, or the delay, starts them earlier.
                using var stopDelay = new CancellationTokenSource();
                // Wall-clock on purpose (not the injected clock): this is CPU scheduling, and a host on a fake clock that
                // never advances (replay, tests) must still finish starting.
                var delay = Task.Delay(TimeSpan.FromMilliseconds(o.SecondaryLoadDelayMs), TimeProvider.System, stopDelay.Token);
                var woke = await Task.WhenAny(secondaryWanted.Task, delay, stopRequested.Task);
                await stopDelay.CancelAsync();
                Step(woke == secondaryWanted.Task ? "wait for the first reply" : woke == delay ? "idle wait (no reply yet)" : "stopped");
            }
            if (stopRequested.Task.IsCompleted && primary is not null && Pending.Count > 0)
            {
                // The host is stopping: the models nobody asked for yet are not loaded. Requests still waiting for
                // them (there are none once the pipeline has drained) get the shutdown as their answer.
                SecondaryLoadsSkippedAtStop = true;
                logger.LogInformation("Inference: host stopping, {Models} not loaded", string.Join(", ", Pending));
                loaded.TrySetCanceled();
                return;
            }

            // libtorch's start-up code (operator registration, ≈ 70 MB resident) is not needed by the loads either: handing
            // it back before they start keeps it out of the start-up peak (the loads, the first connections and their
            // JIT all happen in these seconds); the pages the loads and serving use fault back in.
            if (o.ReleaseStartupCodePages && primary is not null && Pending.Count > 0) ReleaseStartupCodePages("before the other models load");
            secondaryStarted.TrySetResult();
            // The rest in parallel: each load is a different model folder and module (grad mode and dispose scopes
            // are per thread, so the loads do not interfere).
            var teacherNlu = primaryId == o.TeacherNlu ? Task.FromResult(primary) : Task.Run(() => LoaderThreads.RunSingleThreaded(() => loader.Nlu(o.TeacherNlu)));
            var studentNlu = primaryId == o.StudentNlu ? Task.FromResult(primary) : Task.Run(() => LoaderThreads.RunSingleThreaded(() => loader.Nlu(o.StudentNlu)));
            var teacherLm = Task.Run(() => LoaderThreads.RunSingleThreaded(() => loader.Decoder(o.TeacherLm)));
            var studentLm = Task.Run(() => LoaderThreads.RunSingleThreaded(() => loader.Decoder(o.StudentLm)));
            var all = Task.WhenAll(teacherNlu, studentNlu, teacherLm, studentLm);
            try
            {
                await all;
            }
            catch
            {
                loader.DisposeLoaded(teacherNlu, studentNlu, teacherLm, studentLm, except: primary);
                var errors = all.Exception?.InnerExceptions ?? [];
                throw errors.OfType<StartupException>().FirstOrDefault() ?? errors.FirstOrDefault() ?? new StartupException("models cannot be loaded");
            }
            Step("other models (parallel)");
            Publish(loader.Build(teacherNlu.Result, studentNlu.Result, teacherLm.Result, studentLm.Result, partial: false));
            Pending = [];
            NativeHeap.Trim(); // the loads' temporary tensors are freed: hand that memory back
            if (o.ReleaseStartupCodePages) ReleaseStartupCodePages("every model loaded");
            logger.LogInformation("Inference start-up: {Timings}; model loads: {Loads}", string.Join(", ", timings), string.Join(", ", loader.LoadTimes));
            loaded.TrySetResult();
        }
        catch (Exception ex)
        {
            // Invalid Inference options keep their own exception: the host prints it as a configuration error.
            var error = ex is StartupException or OptionsValidationException ? ex : new StartupException($"models cannot be loaded: {ex.Message}", ex);
            primaryReady.TrySetException(error);
            loaded.TrySetException(error);
        }
        finally
        {
            startupLoadEnded.TrySetResult();
        }
    }

    private readonly List<string> codePageReleases = [];

    /// <summary>When start-up handed its code pages back (Inference:ReleaseStartupCodePages), in order.</summary>
    internal IReadOnlyList<string> CodePageReleases
    {
        get { lock (codePageReleases) return codePageReleases.ToArray(); }
    }

    /// <summary>Code pages that only start-up ran go back to the kernel (see <see cref="NativeCodePages"/>).</summary>
    private void ReleaseStartupCodePages(string when)
    {
        lock (codePageReleases) codePageReleases.Add(when);
        long before = NativeCodePages.ResidentBytes(StartupCodeImages);
        long advised = NativeCodePages.Release(StartupCodeImages);
        if (advised == 0) return; // not Linux, or a kernel without MADV_PAGEOUT
        logger.LogInformation("Inference: released start-up code pages (libtorch, precompiled image), {When}: {Before:F0} MB resident before, {After:F0} MB after (pages still used fault back in)",
            when, before / 1048576.0, NativeCodePages.ResidentBytes(StartupCodeImages) / 1048576.0);
    }

    /// <summary>libtorch's shared libraries (CPU build); their machine code is what start-up touched most.</summary>
    internal static readonly string[] TorchCodeLibraries = ["libtorch_cpu.so", "libtorch.so", "libc10.so"];

    /// <summary>libtorch, plus the composite ReadyToRun image of a `dotnet publish` (runtime + MoltBot precompiled).</summary>
    internal static readonly string[] StartupCodeImages = [.. TorchCodeLibraries, "*.r2r.dll"];

    /// <summary>One forward pass: native kernels pick their code paths and the serving code is compiled before the first user.</summary>
    /// <returns>Whether the forward pass ran.</returns>
    private bool Warmup(LoadedNlu nlu)
    {
        try
        {
            NluEngine.Run(nlu, ["hello"]);
            return true;
        }
        catch (Exception ex) when (ex is System.Runtime.InteropServices.ExternalException or InvalidOperationException)
        {
            logger.LogWarning(ex, "NLU warm-up failed; the first request will show the problem");
            return false;
        }
    }

    private static string PrimaryNluId(InferenceOptions o) =>
        o.NluPolicy == "teacher" ? (string.IsNullOrEmpty(o.TeacherNlu) ? o.StudentNlu : o.TeacherNlu)
            : (string.IsNullOrEmpty(o.StudentNlu) ? o.TeacherNlu : o.StudentNlu);

    private static IEnumerable<string> Ids(InferenceOptions o) =>
        new[] { o.TeacherNlu, o.StudentNlu, o.TeacherLm, o.StudentLm }.Where(id => !string.IsNullOrEmpty(id));

    /// <summary>The sentence MoltBot.Hosting.NativeLibraryHint prints (copied: modules cannot reference the host).</summary>
    public const string NativeLibraryMessage =
        "cannot load TorchSharp's native library (libLibTorchSharp.so): it needs libstdc++ with GLIBCXX_3.4.32 (GCC 13+). " +
        "Run scripts/bootstrap.sh as root (Debian 12), or install a newer libstdc++6 with your package manager.";

    public async Task ReloadAsync(CancellationToken cancellationToken)
    {
        await WhenLoadedAsync(cancellationToken);
        await reloadGate.WaitAsync(cancellationToken);
        try
        {
            var o = options.Value;
            var set = await Task.Run(() =>
            {
                var loader = new Loader(this, o);
                return loader.Build(loader.Nlu(o.TeacherNlu), loader.Nlu(o.StudentNlu), loader.Decoder(o.TeacherLm), loader.Decoder(o.StudentLm), partial: false);
            }, cancellationToken);
            Publish(set);
            logger.LogInformation("Models reloaded: {Models}", string.Join(", ", set.Infos.Select(i => i.Id)));
        }
        catch (StartupException ex)
        {
            // A reload that fails keeps the old models serving; the admin gets the reason.
            throw new InvalidOperationException(ex.Message, ex);
        }
        finally
        {
            reloadGate.Release();
        }
    }

    private void Publish(ModelSet set)
    {
        if (Volatile.Read(ref disposed) == 1 && !ReferenceEquals(set, ModelSet.Empty))
        {
            set.Retire(); // the start-up load finished after the host stopped: nothing will use these models
            return;
        }
        var old = Interlocked.Exchange(ref current, set);
        if (ReferenceEquals(old, ModelSet.Empty)) return;
        // The partial start-up set shares its model with the complete one: retire it without disposing the model.
        if (old.IsPartial) old.RetireKeepingModels();
        else old.Retire();
    }

    /// <summary>FP32/BF16 models move to the selected device; INT8 ones stay on the CPU (the int8 kernels are CPU kernels).</summary>
    private LoadedDecoder ToDevice(LoadedDecoder d)
    {
        if (Device is { } device && device.type != DeviceType.CPU && d.Precision != "int8") d.Model.to(device);
        return d;
    }

    /// <summary>Longest wait in <see cref="DisposeAsync"/> for a start-up load under way (a primary model load takes well under a second).</summary>
    internal static readonly TimeSpan DisposeWaitForLoad = TimeSpan.FromSeconds(30);

    /// <summary>Completes when the start-up load's thread has left native code for good (read by tests).</summary>
    internal Task StartupLoadEnded => startupLoadEnded.Task;

    /// <summary>
    /// The service provider disposes the registry asynchronously, also after a start that failed in another module
    /// (a corrupt vault key, a damaged database), when no hosted service's StopAsync ran: the deferred loads must not
    /// begin then, and the load under way must end before the models it publishes are released — otherwise it went on
    /// loading (and logging) on a disposed registry.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        // The host's stop, with a time limit of its own (nobody gives a shutdown timeout to a disposal).
        using (var limit = new CancellationTokenSource(DisposeWaitForLoad)) await StopLoadingAsync(limit.Token).ConfigureAwait(false);
        Dispose();
    }

    public void Dispose()
    {
        stopRequested.TrySetResult();
        Volatile.Write(ref disposed, 1);
        Publish(ModelSet.Empty);
        reloadGate.Dispose();
    }

    /// <summary>One load of the configured folders: applies ContinueWithoutBrokenModel and the teacher precision.</summary>
    private sealed class Loader(ModelRegistry registry, InferenceOptions o)
    {
        private readonly List<string> problems = [];
        private readonly List<string> loadTimes = [];

        public IReadOnlyList<string> LoadTimes
        {
            get { lock (loadTimes) return loadTimes.ToList(); }
        }

        public LoadedNlu? Nlu(string name)
        {
            var n = Try(name, "nlu", f => ModelFolder.LoadNlu(f, registry.kernel!.Kernel));
            if (n is null) return null;
            if (name == o.TeacherNlu && o.TeacherPrecision == "bf16" && n.Precision == "fp32") n = ModelFolder.ToBf16(n);
            n.Model.UseCompiledGraph = o.CompiledGraph;
            registry.logger.LogInformation("Model {Name} runs {Path}", name, n.Model.RunsCompiledGraph ? "as one compiled TorchScript graph per batch" : "on the eager modules");
            return n;
        }

        public LoadedDecoder? Decoder(string name)
        {
            var d = Try(name, "lm", f => ModelFolder.LoadDecoder(f, registry.kernel!.Kernel));
            if (d is null) return null;
            if (name == o.TeacherLm && o.TeacherPrecision == "bf16" && d.Precision == "fp32") d = ModelFolder.ToBf16(d);
            d = registry.ToDevice(d);
            d.Model.UseCompiledGraph = o.CompiledGraph;
            registry.logger.LogInformation("Model {Name} runs {Path}", name, d.Model.RunsCompiledGraph ? "each decode step as one compiled TorchScript graph" : "on the eager modules");
            return d;
        }

        private T? Try<T>(string name, string kind, Func<string, T> load) where T : class
        {
            if (string.IsNullOrEmpty(name)) return null;
            string folder = registry.paths.Model(name);
            var sw = Stopwatch.StartNew();
            try
            {
                var m = load(folder);
                lock (loadTimes) loadTimes.Add($"{name} {sw.Elapsed.TotalMilliseconds:F0} ms");
                registry.logger.LogInformation("Loaded {Kind} model {Name} from {Folder} in {Ms:F0} ms", kind, name, folder, sw.Elapsed.TotalMilliseconds);
                return m;
            }
            catch (ModelFormatException ex)
            {
                string message = $"model '{name}' ({kind}) cannot be loaded: {ex.Message}";
                if (!o.ContinueWithoutBrokenModel)
                    throw new StartupException(message + " (set Inference:ContinueWithoutBrokenModel=true to serve without it)", ex);
                registry.logger.LogError("{Message}; continuing without it", message);
                lock (problems) problems.Add(message);
                return null;
            }
        }

        public void DisposeLoaded(Task<LoadedNlu?> a, Task<LoadedNlu?> b, Task<LoadedDecoder?> c, Task<LoadedDecoder?> d, LoadedNlu? except)
        {
            foreach (var t in new Task[] { a, b, c, d })
            {
                if (t is Task<LoadedNlu?> { IsCompletedSuccessfully: true, Result: { } n } && n != except) n.Dispose();
                if (t is Task<LoadedDecoder?> { IsCompletedSuccessfully: true, Result: { } m }) m.Dispose();
            }
        }

        public ModelSet Build(LoadedNlu? teacherNlu, LoadedNlu? studentNlu, LoadedDecoder? teacherLm, LoadedDecoder? studentLm, bool partial)
        {
            var set = new ModelSet
            {
                TeacherNlu = teacherNlu, StudentNlu = studentNlu, TeacherLm = teacherLm, StudentLm = studentLm,
                IsPartial = partial,
                Problems = partial ? [] : problems.ToList(),
                Infos = new[]
                {
                    Info(o.TeacherNlu, "nlu", teacherNlu?.Precision, teacherNlu?.Kernel, teacherNlu?.Model, teacherNlu?.Model.LinearLayers(), teacherNlu?.Folder),
                    Info(o.StudentNlu, "nlu", studentNlu?.Precision, studentNlu?.Kernel, studentNlu?.Model, studentNlu?.Model.LinearLayers(), studentNlu?.Folder),
                    Info(o.TeacherLm, "lm", teacherLm?.Precision, teacherLm?.Kernel, teacherLm?.Model, teacherLm?.Model.LinearLayers(), teacherLm?.Folder),
                    Info(o.StudentLm, "lm", studentLm?.Precision, studentLm?.Kernel, studentLm?.Model, studentLm?.Model.LinearLayers(), studentLm?.Folder),
                }.OfType<ModelInfo>().ToList(),
            };
            if (partial) return set;
            var loopLogger = registry.loggers.CreateLogger<GenerationLoop>();
            if (teacherLm is not null) set.TeacherLoop = new GenerationLoop(o.TeacherLm, teacherLm, set, o.LmMaxBatch, o.MaxSequenceLength, o.QueueCapacity, loopLogger);
            if (studentLm is not null) set.StudentLoop = new GenerationLoop(o.StudentLm, studentLm, set, o.LmMaxBatch, o.MaxSequenceLength, o.QueueCapacity, loopLogger);
            if (teacherLm is not null && studentLm is not null && SpeculativeDecoder.Compatible(teacherLm, studentLm))
                set.Speculative = new SpeculativeDecoder(teacherLm, studentLm, o.SpeculativeDraftTokens, o.MaxSequenceLength);
            else if (o.LmPolicy == "speculative")
                registry.logger.LogWarning("Inference:LmPolicy is speculative but the teacher and student LMs are not both loaded with one vocabulary; the teacher answers alone");
            return set;
        }

        private static ModelInfo? Info(string id, string kind, string? precision, string? kernelName, torch.nn.Module? model,
            IEnumerable<(string Name, LinearLayer Layer)>? linears, string? folder) =>
            model is null ? null
                : new ModelInfo(id, kind, precision ?? "fp32", ModelFolder.ParameterCount(model, linears!), true) { Path = folder, Kernel = kernelName };
    }
}
