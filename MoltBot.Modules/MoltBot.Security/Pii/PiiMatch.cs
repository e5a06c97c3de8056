namespace MoltBot.Security.Pii;

/// <summary>One piece of personal data found in a text: where it is and what kind it is.</summary>
public readonly record struct PiiMatch(int Start, int Length, string Type, string Value)
{
    public int End => Start + Length;
}
