using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MoltBot.Gateway.Protocol;
using MoltBot.Gateway.WebSockets;

namespace MoltBot.Gateway;

/// <summary>Expires idle sessions every second and, at shutdown, closes every WebSocket with 1001 (going away).</summary>
internal sealed class GatewayBackgroundService(SessionRegistry sessions, OutboundRouter router, TimeProvider clock,
    ILogger<GatewayBackgroundService> logger) : BackgroundService
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

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        int open = sessions.ConnectionCount;
        if (open > 0) logger.LogInformation("Closing {Count} WebSocket connection(s)", open);
        sessions.CloseAll(CloseCodes.GoingAway, "server shutting down");
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }
}
