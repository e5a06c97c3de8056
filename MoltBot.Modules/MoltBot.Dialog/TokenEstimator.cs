namespace MoltBot.Dialog;

/// <summary>
/// A tokenizer-free token count for budgeting the prompt: about one token per CJK character and one per four
/// other characters, plus a per-message overhead. It errs on the high side so the real prompt fits.
/// </summary>
public static class TokenEstimator
{
    public const int PerMessageOverhead = 4;

    public static int Estimate(string text)
    {
        int cjk = 0, other = 0;
        foreach (char c in text)
        {
            if (c is >= '\u3000' and <= '\u9fff' or >= '\uac00' and <= '\ud7af' or >= '\uff00' and <= '\uffef') cjk++;
            else other++;
        }
        return cjk + (other + 3) / 4;
    }

    public static int EstimateMessage(string content) => Estimate(content) + PerMessageOverhead;
}
