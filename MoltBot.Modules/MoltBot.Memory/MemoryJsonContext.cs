using System.Text.Json;
using System.Text.Json.Serialization;
using MoltBot.Contracts.Memory;

namespace MoltBot.Memory;

/// <summary>
/// JSON metadata for the dialog state written at build time: the first turn no longer builds it by reflection and
/// emitted accessors (docs/performance.md, "Cold start, session 2026-11-24 evening"). Web defaults, as
/// <see cref="DialogStateStore.Json"/> (which uses it) always had.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(DialogState))]
internal sealed partial class MemoryJsonContext : JsonSerializerContext;
