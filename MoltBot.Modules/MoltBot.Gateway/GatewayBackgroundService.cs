using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MoltBot.Gateway.Protocol;
using MoltBot.Gateway.WebSockets;

namespace MoltBot.Gateway;

/// <summary>Expires idle sessions every second and, when the host stops, closes every WebSocket with 1001 (going away).</summary>
internal sealed class GatewayBackgroundService(SessionRegistry sessions, OutboundRouter router, TimeProvider clock,
    ILogger<GatewayBackgroundService> logger) : BackgroundService, IHostedLifecycleService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                foreach (var envelopeId in sessions.ExpireIdle()) router.Unregister(envelopeId);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private void CloseAll()
    {
        int open = sessions.ConnectionCount;
        if (open > 0) logger.LogInformation("Closing {Count} WebSocket connection(s): shutting down", open);
        sessions.CloseAll(CloseCodes.GoingAway, "server shutting down");
    }

    // Kestrel stops before this service and waits for open requests; a WebSocket only ends when it is closed,
    // so the sockets are closed in the "stopping" phase, which runs before any StopAsync (Kestrel's included).
    // The pipeline (registered after the gateway) drains in its own stopping phase first, so replies finished
    // during the drain are still delivered on the open sockets.
    public Task StoppingAsync(CancellationToken cancellationToken)
    {
        CloseAll();
        return Task.CompletedTask;
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        CloseAll(); // idempotent: in case the stopping phase did not run
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
