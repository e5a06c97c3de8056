using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MoltBot.Gateway.Protocol;
using MoltBot.Gateway.WebSockets;

namespace MoltBot.Gateway;

/// <summary>Expires idle sessions every second and, when the host starts stopping, closes every WebSocket with 1001 (going away).</summary>
internal sealed class GatewayBackgroundService(SessionRegistry sessions, OutboundRouter router, TimeProvider clock,
    IHostApplicationLifetime lifetime, ILogger<GatewayBackgroundService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Kestrel stops before this service and waits for open requests; a WebSocket only ends when it is closed,
        // so close them as soon as stopping begins instead of letting Kestrel abort them after its timeout.
        using var onStopping = lifetime.ApplicationStopping.Register(CloseAll);
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

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        CloseAll(); // in case stopping began before ExecuteAsync registered the callback
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }
}
