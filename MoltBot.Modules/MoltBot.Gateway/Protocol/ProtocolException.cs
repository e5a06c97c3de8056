namespace MoltBot.Gateway.Protocol;

/// <summary>A client frame the gateway cannot accept; becomes an error frame with <see cref="Code"/>, the connection stays open.</summary>
internal sealed class ProtocolException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}
