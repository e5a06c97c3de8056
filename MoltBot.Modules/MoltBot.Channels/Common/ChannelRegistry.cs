using MoltBot.Contracts.Admin;

namespace MoltBot.Channels.Common;

/// <summary>The five platform adapters, for the hosted service, the health check, metrics and the admin port.</summary>
public sealed class ChannelRegistry(IEnumerable<ChannelAdapterBase> adapters) : IChannelAdmin
{
    public IReadOnlyList<ChannelAdapterBase> Adapters { get; } = adapters.ToArray();

    public ChannelAdapterBase? Find(string platform) =>
        Adapters.FirstOrDefault(a => string.Equals(a.Platform, platform, StringComparison.OrdinalIgnoreCase));

    public IReadOnlyList<ChannelStatus> List() =>
        Adapters.Select(a => new ChannelStatus(a.Platform, a.Enabled, a.State.ToString().ToLowerInvariant())).ToArray();

    public async Task<bool> SetEnabledAsync(string platform, bool enabled, CancellationToken cancellationToken)
    {
        if (Find(platform) is not { } adapter) return false;
        if (enabled) await adapter.StartAsync(cancellationToken).ConfigureAwait(false);
        else await adapter.StopAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }
}
