using Microsoft.Extensions.Hosting;

namespace MoltBot.Inference.Engines;

/// <summary>
/// Loads the models while the host starts, so a missing or corrupt model folder stops start-up with a
/// StartupException naming the folder, file and tensor (unless Inference:ContinueWithoutBrokenModel).
/// </summary>
internal sealed class InferenceStartup(ModelRegistry registry) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.Run(registry.LoadAtStartup, cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
