using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace MoltBot.Contracts.Configuration.Validation;

public static class OptionsBuilderValidation
{
    /// <summary>
    /// Checks the options' DataAnnotations with the build-time generated validator <typeparamref name="TGenerated"/>
    /// (see <see cref="GeneratedAnnotationsValidator{TOptions, TGenerated}"/>) and does so at start-up. Call it after a
    /// <c>Bind</c> that names the concrete options type, so the configuration-binding source generator writes that too.
    /// </summary>
    public static OptionsBuilder<TOptions> ValidateAnnotationsOnStart<TOptions, TGenerated>(this OptionsBuilder<TOptions> builder)
        where TOptions : class
        where TGenerated : IValidateOptions<TOptions>, new()
    {
        builder.Services.AddSingleton<IValidateOptions<TOptions>>(new GeneratedAnnotationsValidator<TOptions, TGenerated>(builder.Name));
        return builder.ValidateOnStart();
    }
}
