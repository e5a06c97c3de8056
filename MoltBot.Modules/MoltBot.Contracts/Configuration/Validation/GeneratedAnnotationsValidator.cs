using Microsoft.Extensions.Options;

namespace MoltBot.Contracts.Configuration.Validation;

/// <summary>
/// Checks an options class's DataAnnotations ([Range], [Required], [RegularExpression], IValidatableObject) with the
/// validator the options source generator wrote for it (<typeparamref name="TGenerated"/>, an
/// <c>[OptionsValidator] partial class</c>): no reflection over the properties at start-up (docs/performance.md, "Cold
/// start, session 2026-11-24 evening"). Only when that check fails does the reflection validator run, for its messages:
/// the generated [Range] copy (Microsoft.Extensions.Options.SourceGeneration 10.0) ignores the attribute's
/// ErrorMessage, and ours name the configuration key and the allowed range. Same rules, same one-line errors.
/// </summary>
public sealed class GeneratedAnnotationsValidator<TOptions, TGenerated> : IValidateOptions<TOptions>
    where TOptions : class
    where TGenerated : IValidateOptions<TOptions>, new()
{
    private readonly TGenerated generated = new();
    private readonly DataAnnotationValidateOptions<TOptions> reflection;

    /// <param name="name">The named options instance to validate; null for all (as ValidateDataAnnotations does).</param>
    public GeneratedAnnotationsValidator(string? name = "")
    {
        reflection = new DataAnnotationValidateOptions<TOptions>(name);
        Name = name;
    }

    public string? Name { get; }

    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        if (Name is not null && Name != name) return ValidateOptionsResult.Skip;
        var result = generated.Validate(name, options);
        return result.Failed ? reflection.Validate(name, options) : result;
    }
}
