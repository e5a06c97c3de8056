namespace MoltBot.Inference.Training.Corpus;

/// <summary>FNV-1a over UTF-16 code units: a hash that is the same in every process (string.GetHashCode is not).</summary>
public static class StableHash
{
    public static int Of(string s)
    {
        uint h = 2166136261;
        foreach (char c in s)
        {
            h ^= c;
            h *= 16777619;
        }
        return (int)(h & 0x7fffffff);
    }
}
