namespace MoltBot.Inference.Training.Corpus;

/// <summary>The values one language offers for each slot, read from slots/&lt;lang&gt;/&lt;slot&gt;.txt (one value a line).</summary>
public sealed class SlotValues
{
    private readonly Dictionary<string, string[]> values;

    private SlotValues(Dictionary<string, string[]> values) => this.values = values;

    public static SlotValues Load(string slotsDir, string lang)
    {
        string dir = Path.Combine(slotsDir, lang);
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"slot value folder '{dir}' does not exist");
        var map = new Dictionary<string, string[]>();
        foreach (var file in Directory.GetFiles(dir, "*.txt").Order(StringComparer.Ordinal))
        {
            var lines = File.ReadAllLines(file).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToArray();
            if (lines.Length == 0) throw new InvalidDataException($"slot value file '{file}' is empty");
            map[Path.GetFileNameWithoutExtension(file)] = lines;
        }
        return new SlotValues(map);
    }

    public IReadOnlyList<string> this[string slot] =>
        values.TryGetValue(slot, out var v) ? v : throw new KeyNotFoundException($"no slot values for {{{slot}}}");

    /// <summary>Values reserved for held-out data: the last <paramref name="heldOutFraction"/> of each list.</summary>
    public IReadOnlyList<string> Partition(string slot, bool heldOut, double heldOutFraction)
    {
        var all = this[slot];
        int cut = Math.Max(1, all.Count - (int)Math.Ceiling(all.Count * heldOutFraction));
        return heldOut ? all.Skip(cut).ToArray() : all.Take(cut).ToArray();
    }
}
