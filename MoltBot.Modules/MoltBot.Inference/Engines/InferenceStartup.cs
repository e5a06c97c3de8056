using Microsoft.Extensions.Hosting;

namespace MoltBot.Inference.Engines;

/// <summary>
/// Starts loading the models when the host starts, without holding up the other modules: StartAsync only begins the
/// load (native library, int8 kernel, primary NLU model first), so the server listens while it runs. StartedAsync —
/// after every module and the web server have started — waits for the complete load (the secondary models follow the
/// first reply, or Inference:SecondaryLoadDelayMs without one), so a missing or corrupt model
/// folder still stops start-up with a StartupException naming the folder, file and tensor (unless
/// Inference:ContinueWithoutBrokenModel). Requests that arrive meanwhile wait for the model they need.
/// </summary>
internal sealed class InferenceStartup(ModelRegistry registry) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        registry.StartLoading();
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StartedAsync(CancellationToken cancellationToken)
    {
        try
        {
            // Waits without asking for the deferred secondary models: they follow the first reply (or the delay).
            await registry.StartLoading().WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped (e.g. SIGTERM) while the models were still loading: nothing left to wait for.
        }
    }

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Deferred loads that have not begun do not begin; loads under way finish before the host goes on stopping.</summary>
    public Task StopAsync(CancellationToken cancellationToken) => registry.StopLoadingAsync(cancellationToken);

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
