using System.Text.Json;
using System.Text.Json.Serialization;

namespace MoltBot.Security.Audit;

/// <summary>
/// <see cref="AuditRecord"/>'s JSON metadata written at build time: the first audited turn no longer builds it by
/// reflection and emitted accessors (docs/performance.md, "Cold start, session 2026-11-24 evening"). Same settings as
/// <see cref="AuditRecord.Json"/>, which uses it; the bytes (and so the hash chain) are unchanged.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AuditRecord))]
internal sealed partial class AuditJsonContext : JsonSerializerContext;
