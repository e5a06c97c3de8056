using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using MoltBot.Contracts.Pipeline;

namespace MoltBot.Dialog;

public static class DialogModule
{
    /// <summary>Registers the dialog manager as the pipeline's message handler.</summary>
    public static IServiceCollection AddMoltBotDialog(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton<IMessageHandler, DialogManager>();
        return services;
    }
}
