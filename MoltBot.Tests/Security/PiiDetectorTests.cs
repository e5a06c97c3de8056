using System.Globalization;
using MoltBot.Security.Pii;
using Xunit.Abstractions;

namespace MoltBot.Tests.Security;

public class PiiDetectorTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("4111111111111111", true)]
    [InlineData("4111111111111112", false)]
    [InlineData("378282246310005", true)]
    public void Luhn_accepts_valid_card_numbers_only(string digits, bool valid) => Assert.Equal(valid, PiiChecksums.Luhn(digits));

    [Theory]
    [InlineData("11010519491231002X", true)]
    [InlineData("11010519491231002Y", false)]
    [InlineData("110105194912310021", false)]
    [InlineData("110105194913310029", false)] // month 13
    public void Chinese_id_checksum_and_birth_date_are_checked(string id, bool valid) => Assert.Equal(valid, PiiChecksums.ChineseResidentId(id));

    [Theory]
    [InlineData("GB82WEST12345698765432", true)]
    [InlineData("GB83WEST12345698765432", false)]
    [InlineData("DE89370400440532013000", true)]
    public void Iban_mod97_is_checked(string iban, bool valid) => Assert.Equal(valid, PiiChecksums.Iban(iban));

    [Fact]
    public void Every_hand_written_example_is_labelled_exactly()
    {
        var wrong = new List<string>();
        foreach (var example in PiiLabelledSet.HandWritten)
        {
            var found = PiiDetector.Find(example.Text).Select(m => (m.Type, m.Value)).ToList();
            if (!found.SequenceEqual(example.Labels))
                wrong.Add($"'{example.Text}': expected [{string.Join(", ", example.Labels)}] found [{string.Join(", ", found)}]");
        }
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    [Fact]
    public void Precision_and_recall_on_the_labelled_set()
    {
        var set = PiiLabelledSet.HandWritten.Concat(PiiLabelledSet.KnownHard).Concat(PiiLabelledSet.Generated(2000, seed: 9)).ToList();
        var perType = new Dictionary<string, (int Tp, int Fp, int Fn)>();
        foreach (var example in set)
        {
            var gold = example.Labels.ToList();
            var found = PiiDetector.Find(example.Text).Select(m => (m.Type, m.Value)).ToList();
            foreach (var f in found)
            {
                var c = perType.GetValueOrDefault(f.Type);
                perType[f.Type] = gold.Remove(f) ? c with { Tp = c.Tp + 1 } : c with { Fp = c.Fp + 1 };
            }
            foreach (var missed in gold)
            {
                var c = perType.GetValueOrDefault(missed.Type);
                perType[missed.Type] = c with { Fn = c.Fn + 1 };
            }
        }
        int tp = perType.Values.Sum(c => c.Tp), fp = perType.Values.Sum(c => c.Fp), fn = perType.Values.Sum(c => c.Fn);
        double precision = (double)tp / (tp + fp), recall = (double)tp / (tp + fn);
        output.WriteLine($"examples {set.Count}, entities {tp + fn}: precision {precision:F4}, recall {recall:F4} (tp {tp}, fp {fp}, fn {fn})");
        foreach (var (type, c) in perType.OrderBy(kv => kv.Key))
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {type,-6} tp {c.Tp,4} fp {c.Fp,3} fn {c.Fn,3}  precision {(double)c.Tp / Math.Max(1, c.Tp + c.Fp):F4} recall {(double)c.Tp / Math.Max(1, c.Tp + c.Fn):F4}"));
        Assert.True(precision >= 0.98, $"precision {precision:F4}");
        Assert.True(recall >= 0.98, $"recall {recall:F4}");
        // The hand-written part alone (positives and hard negatives, incl. the known-hard cases), reported separately.
        var hand = PiiLabelledSet.HandWritten.Concat(PiiLabelledSet.KnownHard).ToList();
        int htp = 0, hfp = 0, hfn = 0;
        foreach (var example in hand)
        {
            var gold = example.Labels.ToList();
            foreach (var f in PiiDetector.Find(example.Text).Select(m => (m.Type, m.Value)))
            {
                if (gold.Remove(f)) htp++; else hfp++;
            }
            hfn += gold.Count;
        }
        output.WriteLine($"hand-written subset ({hand.Count} sentences, {PiiLabelledSet.KnownHard.Count} known-hard): precision {(double)htp / (htp + hfp):F4}, recall {(double)htp / (htp + hfn):F4} (tp {htp}, fp {hfp}, fn {hfn})");
    }

    [Fact]
    public void Tokens_are_never_detected_again()
    {
        Assert.Empty(PiiDetector.Find("reply to ⟦EMAIL_1⟧ or ⟦PHONE_12⟧, card ⟦CARD_3⟧"));
    }
}
