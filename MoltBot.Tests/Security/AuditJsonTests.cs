using System.Text.Json;
using System.Text.Json.Serialization;
using MoltBot.Security.Audit;

namespace MoltBot.Tests.Security;

/// <summary>
/// Audit records are serialized with build-time JSON metadata now: the bytes must be exactly what the reflection
/// serializer wrote with the same settings, or the hash chain of every existing audit log would stop verifying.
/// </summary>
public class AuditJsonTests
{
    private static readonly JsonSerializerOptions Reflection = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(),
    };

    public static TheoryData<AuditRecord> Records => new()
    {
        new AuditRecord { Seq = 1, Ts = 1_700_000_000_000, Actor = "apikey:ab12cd34", Role = "admin", Action = "model.generate", Target = "web:conv1",
            Model = "student-int8", LatencyMs = 12.5, InputTokens = 10, OutputTokens = 20, InputHash = "aa", OutputHash = "bb", Outcome = "ok",
            Prev = AuditRecord.GenesisHash, Hash = "cc" },
        // Nulls left out, non-ASCII and characters the relaxed encoder keeps as they are.
        new AuditRecord { Seq = 2, Ts = 5, Actor = "user:ü<&>'\"", Role = "", Action = "nlu", Target = "telegram:会话", Prev = "p" },
        new AuditRecord { Seq = long.MaxValue, LatencyMs = 0.1 + 0.2, InputTokens = -1 },
    };

    [Theory]
    [MemberData(nameof(Records))]
    public void Lines_and_canonical_json_are_byte_for_byte_the_reflection_serializers(AuditRecord record)
    {
        Assert.Equal(JsonSerializer.Serialize(record, Reflection), record.ToJsonLine());
        Assert.Equal(JsonSerializer.Serialize(record with { Hash = null }, Reflection), record.CanonicalJson());
        Assert.Equal(record, AuditRecord.Parse(record.ToJsonLine()));
    }
}
