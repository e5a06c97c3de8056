using Microsoft.Extensions.Options;

namespace MoltBot.Gateway;

/// <summary>Checks what data annotations cannot: every configured token is long enough to resist guessing.</summary>
internal sealed class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
    public const int MinTokenLength = 16;

    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        for (int i = 0; i < options.Tokens.Count; i++)
        {
            string token = options.Tokens[i] ?? "";
            if (token.Length < MinTokenLength || token.Any(char.IsWhiteSpace))
            {
                return ValidateOptionsResult.Fail(
                    $"Gateway:Tokens:{i} must be at least {MinTokenLength} characters without spaces (got {token.Length}).");
            }
        }
        return ValidateOptionsResult.Success;
    }
}
