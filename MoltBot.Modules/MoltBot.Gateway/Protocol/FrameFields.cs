using System.Text.Json;

namespace MoltBot.Gateway.Protocol;

/// <summary>Typed access to the fields of a client frame; a missing required field or a wrong type is invalid_field.</summary>
internal static class FrameFields
{
    public static string RequiredString(JsonElement frame, string name, int maxLength)
    {
        if (!frame.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            throw new ProtocolException(ErrorCodes.InvalidField, $"Field '{name}' is required (string).");
        return CheckString(value, name, maxLength);
    }

    public static string? OptionalString(JsonElement frame, string name, int maxLength)
    {
        if (!frame.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        return CheckString(value, name, maxLength);
    }

    public static int? OptionalInt(JsonElement frame, string name, int min, int max)
    {
        if (!frame.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out long n) || n < min || n > max)
            throw new ProtocolException(ErrorCodes.InvalidField, $"Field '{name}' must be an integer between {min} and {max}.");
        return (int)n;
    }

    public static long RequiredLong(JsonElement frame, string name, long min)
    {
        if (!frame.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.Number
            || !value.TryGetInt64(out long n) || n < min)
            throw new ProtocolException(ErrorCodes.InvalidField, $"Field '{name}' must be an integer >= {min}.");
        return n;
    }

    public static bool? OptionalBool(JsonElement frame, string name)
    {
        if (!frame.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new ProtocolException(ErrorCodes.InvalidField, $"Field '{name}' must be true or false."),
        };
    }

    public static JsonElement? OptionalObject(JsonElement frame, string name)
    {
        if (!frame.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.Object)
            throw new ProtocolException(ErrorCodes.InvalidField, $"Field '{name}' must be an object.");
        return value;
    }

    private static string CheckString(JsonElement value, string name, int maxLength)
    {
        if (value.ValueKind != JsonValueKind.String)
            throw new ProtocolException(ErrorCodes.InvalidField, $"Field '{name}' must be a string.");
        string s = value.GetString()!;
        if (s.Length > maxLength)
        {
            throw new ProtocolException(name == "text" ? ErrorCodes.TextTooLong : ErrorCodes.InvalidField,
                $"Field '{name}' is longer than {maxLength} characters.");
        }
        return s;
    }
}
