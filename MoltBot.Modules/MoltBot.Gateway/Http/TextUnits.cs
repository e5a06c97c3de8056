namespace MoltBot.Gateway.Http;

/// <summary>
/// Estimates token counts for the OpenAI "usage" object: one unit per word and per CJK character. MoltBot's
/// pipeline does not report model tokens for a reply, so these are estimates (documented in docs/protocol.md).
/// </summary>
internal static class TextUnits
{
    public static int Count(string text)
    {
        int units = 0;
        bool inWord = false;
        foreach (char c in text)
        {
            if (c >= '\u3400' && c <= '\u9fff')
            {
                units++;
                inWord = false;
            }
            else if (char.IsLetterOrDigit(c))
            {
                if (!inWord) units++;
                inWord = true;
            }
            else
            {
                if (!char.IsWhiteSpace(c)) units++;
                inWord = false;
            }
        }
        return units;
    }
}
