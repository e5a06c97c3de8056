using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace MoltBot.Security.Audit;

/// <summary>
/// One line of the audit log. <see cref="Hash"/> = SHA-256 hex over <see cref="Prev"/> + "\n" + the canonical JSON
/// of the record without its hash (fixed property order, no indentation), which chains every record to the one
/// before it.
/// </summary>
public sealed record AuditRecord
{
    public long Seq { get; init; }
    public long Ts { get; init; }
    public string Actor { get; init; } = "";
    public string Role { get; init; } = "";
    public string Action { get; init; } = "";
    public string Target { get; init; } = "";
    public string? Model { get; init; }
    public double? LatencyMs { get; init; }
    public int? InputTokens { get; init; }
    public int? OutputTokens { get; init; }
    public string? InputHash { get; init; }
    public string? OutputHash { get; init; }
    public string? Outcome { get; init; }
    public string Prev { get; init; } = "";
    public string? Hash { get; init; }

    public const string GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000";

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        TypeInfoResolver = AuditJsonContext.Default,
    };

    public string CanonicalJson() => JsonSerializer.Serialize(this with { Hash = null }, Json);

    public string ComputeHash() =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Prev + "\n" + CanonicalJson())));

    public string ToJsonLine() => JsonSerializer.Serialize(this, Json);

    public static AuditRecord? Parse(string line) => JsonSerializer.Deserialize<AuditRecord>(line, Json);

    /// <summary>SHA-256 hex of a text, for the input/output hashes of model calls (never the text itself).</summary>
    public static string HashText(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
