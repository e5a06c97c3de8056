using Microsoft.Extensions.Options;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using MoltBot.Contracts.Pipeline;
using MoltBot.Contracts.Configuration.Validation;

namespace MoltBot.Dialog;

public static class DialogModule
{
    /// <summary>
    /// Registers the dialog manager as the pipeline's message handler. It needs the NLU, generation and embedding
    /// ports (inference module), the skill dispatcher (skills module) and the memory ports (memory module).
    /// </summary>
    public static IServiceCollection AddMoltBotDialog(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DialogOptions>().Bind(configuration.GetSection(DialogOptions.Section)).ValidateAnnotationsOnStart<DialogOptions, DialogOptionsAnnotations>();
        services.TryAddSingleton<IMessageHandler, DialogManager>();
        return services;
    }
}
