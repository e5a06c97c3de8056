namespace MoltBot.Inference.Training.Corpus;

/// <summary>
/// Training slot values for the dialog corpus of one language: the NLU training values plus the values composed by
/// dialog/slots/&lt;lang&gt;/&lt;slot&gt;.txt (<see cref="SlotGrammar"/>). Any value that equals or contains a held-out
/// NLU value of the same slot is never produced, so held-out conversations keep slot values no training
/// conversation has. These pools belong to the dialog corpus only; the NLU corpus does not read them.
/// </summary>
public sealed class DialogSlotPools
{
    private readonly Dictionary<string, SlotGrammar> grammars;
    private readonly SlotValues nluSlots;
    private readonly Dictionary<string, string[]> heldOutValues = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string[]> nluTrainValues = new(StringComparer.Ordinal);
    private readonly double heldOutFraction;

    private DialogSlotPools(string lang, Dictionary<string, SlotGrammar> grammars, SlotValues nluSlots, double heldOutFraction)
    {
        Lang = lang;
        this.grammars = grammars;
        this.nluSlots = nluSlots;
        this.heldOutFraction = heldOutFraction;
    }

    public string Lang { get; }

    public IEnumerable<string> ComposedSlots => grammars.Keys;

    public static DialogSlotPools Load(string dialogSlotsDir, string lang, SlotValues nluSlots, double heldOutFraction)
    {
        string dir = Path.Combine(dialogSlotsDir, lang);
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"dialog slot grammar folder '{dir}' does not exist");
        var grammars = Directory.GetFiles(dir, "*.txt").Order(StringComparer.Ordinal)
            .ToDictionary(f => Path.GetFileNameWithoutExtension(f), SlotGrammar.Load, StringComparer.Ordinal);
        return new DialogSlotPools(lang, grammars, nluSlots, heldOutFraction);
    }

    /// <summary>The NLU values reserved for held-out conversations of <paramref name="slot"/>.</summary>
    public IReadOnlyList<string> HeldOut(string slot)
    {
        if (!heldOutValues.TryGetValue(slot, out var v)) heldOutValues[slot] = v = nluSlots.Partition(slot, true, heldOutFraction).ToArray();
        return v;
    }

    /// <summary>True when a training value would reveal a held-out value (equal to it or containing it).</summary>
    public bool Reveals(string slot, string value) =>
        HeldOut(slot).Any(h => value.Contains(h, StringComparison.OrdinalIgnoreCase));

    /// <summary>All training values of a slot (NLU training values + composed values, held-out ones removed).</summary>
    public IReadOnlyList<string> AllTrainingValues(string slot)
    {
        var composed = grammars.TryGetValue(slot, out var g) ? g.Enumerate() : [];
        return NluTrain(slot).Concat(composed).Distinct(StringComparer.Ordinal).Where(v => !Reveals(slot, v)).ToList();
    }

    /// <summary>
    /// One training value: half the time a composed value (when the slot has a grammar), otherwise an NLU training
    /// value, so the short everyday values stay frequent while the composed ones force copying.
    /// </summary>
    public string Sample(string slot, Random rng)
    {
        bool composed = grammars.TryGetValue(slot, out var g) && rng.Next(2) == 0;
        for (int attempt = 0; attempt < 200; attempt++)
        {
            var nlu = NluTrain(slot);
            string v = composed ? g!.Sample(rng) : nlu[rng.Next(nlu.Length)];
            if (v.Length > 0 && !Reveals(slot, v)) return v;
        }
        throw new InvalidDataException($"the {Lang} slot grammar for {{{slot}}} keeps producing held-out values");
    }

    private string[] NluTrain(string slot)
    {
        if (!nluTrainValues.TryGetValue(slot, out var v)) nluTrainValues[slot] = v = nluSlots.Partition(slot, false, heldOutFraction).ToArray();
        return v;
    }
}
