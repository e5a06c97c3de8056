using System.Text.Json;
using MoltBot.Contracts.Diagnostics;

namespace MoltBot.DevTools;

/// <summary>Reads trace JSON lines (one file, or every *.jsonl in a folder), with line numbers in errors.</summary>
public static class TraceFile
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task<IReadOnlyList<TraceEvent>> ReadAsync(string path, CancellationToken cancellationToken)
    {
        var files = Directory.Exists(path)
            ? Directory.GetFiles(path, "*.jsonl").Order(StringComparer.Ordinal).ToArray()
            : File.Exists(path) ? [path] : throw new FileNotFoundException($"trace '{path}' not found (a .jsonl file or a folder of them)");
        var events = new List<TraceEvent>();
        foreach (var file in files)
        {
            int n = 0;
            await foreach (var line in File.ReadLinesAsync(file, cancellationToken))
            {
                n++;
                if (string.IsNullOrWhiteSpace(line)) continue;
                try
                {
                    events.Add(JsonSerializer.Deserialize<TraceEvent>(line, Json) ?? throw new JsonException("empty event"));
                }
                catch (JsonException ex)
                {
                    throw new InvalidDataException($"{file}:{n}: not a trace event ({ex.Message})", ex);
                }
            }
        }
        return events;
    }
}
