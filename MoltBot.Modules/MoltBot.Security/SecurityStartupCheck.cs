using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MoltBot.Security.Pii;

namespace MoltBot.Security;

/// <summary>Loads the vault key at start, so a corrupt key file stops the host with its one-line message, not the first message.</summary>
internal sealed class SecurityStartupCheck(IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        services.GetRequiredService<PiiVaultStore>();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
