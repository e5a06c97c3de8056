using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MoltBot.Gateway.Http;

namespace MoltBot.Gateway.WebSockets;

/// <summary>GET /ws: the WebSocket upgrade, with the connection limit and the protocol-level heartbeat.</summary>
internal static class WebSocketEndpoint
{
    public static void Map(IEndpointRouteBuilder endpoints)
    {
        // The WebSockets middleware only on this endpoint, so nothing else in the host changes.
        var pipeline = endpoints.CreateApplicationBuilder().UseWebSockets();
        pipeline.Run(HandleAsync);
        endpoints.Map("/ws", pipeline.Build());
    }

    private static async Task HandleAsync(HttpContext context)
    {
        var services = context.RequestServices;
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await ApiErrors.BadRequest(context, "websocket_required", "GET /ws expects a WebSocket upgrade request (see docs/protocol.md).");
            return;
        }
        var options = services.GetRequiredService<IOptions<GatewayOptions>>().Value;
        var registry = services.GetRequiredService<SessionRegistry>();
        if (!registry.TryReserveConnection())
        {
            await ApiErrors.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, ApiErrors.Server, "too_many_connections",
                $"MoltBot already holds Gateway:MaxConnections ({options.MaxConnections}) WebSocket connections.", retryAfterSeconds: options.RetryAfterSeconds);
            return;
        }
        System.Net.WebSockets.WebSocket socket;
        try
        {
            socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
            {
                // Protocol pings; a client that does not answer with a pong within the timeout is aborted.
                KeepAliveInterval = TimeSpan.FromSeconds(options.HeartbeatIntervalSeconds),
                KeepAliveTimeout = TimeSpan.FromSeconds(options.HeartbeatTimeoutSeconds),
            });
        }
        catch
        {
            registry.ReleaseReservation();
            throw;
        }
        using (socket)
        {
            var connection = new WebSocketConnection(socket, options, registry,
                services.GetRequiredService<GatewayIntake>(), services.GetRequiredService<HistoryReader>(),
                services.GetRequiredService<GatewayTokens>(), services.GetRequiredService<TimeProvider>(),
                // The one ILogger<T> singleton: the Serilog factory makes a new logger (and its caches) at every
                // CreateLogger call, which was ≈ 0.6 KB held by each open connection.
                services.GetRequiredService<ILogger<WebSocketConnection>>());
            await connection.RunAsync(context.RequestAborted);
        }
    }
}
