using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MoltBot.Inference.Models;

/// <summary>
/// An ensemble of NLU models that share one tokenizer and one label set (model_type moltbot_nlu_ensemble):
/// <see cref="NluEncoder"/>s, and optionally <see cref="NgramClassifier"/>s (a different model class, intents only).
/// Intent probabilities are the weighted mean of the members' probabilities, Σ_k w_k·p_k / Σ_k w_k (every weight 1
/// unless the folder's config.json says otherwise); per-token BIO tag probabilities are the plain mean over the
/// members that have a tag head (<see cref="NluModel.HasTagHead"/>) — a member without one has no say in the tags;
/// the sentence embedding is the first member's (which must therefore be an encoder; members' embedding spaces are
/// unrelated, so a mean of them would mean nothing). Encoder members may differ in size and depth.
/// Tensor names: members.K.…, one member model per K.
/// </summary>
public sealed class NluEnsemble : NluModel
{
    // Floor under the mean probability before the log: a member's softmax can underflow to 0 in FP32, and log(0) = -inf
    // turns the distillation KL into NaN (0 · -inf). Rooted for the process (see LiveScalars).
    private static readonly Scalar ProbabilityFloor = 1e-12.ToScalar();

    private readonly ModuleList<NluModel> members = new();
    private readonly double[] weights;
    private readonly double[] shares;      // w_k / Σ w
    private readonly double tagShare;      // 1 / (number of tagging members)

    /// <param name="models">At least one; the first has a tag head; none is itself an ensemble. They must agree on
    /// vocabulary, padding and labels (checked by <see cref="NluEnsembleFolder"/>).</param>
    /// <param name="memberWeights">One finite weight &gt; 0 per member for the intent mean; null = all 1.</param>
    public NluEnsemble(IReadOnlyList<NluModel> models, IReadOnlyList<double>? memberWeights = null) : base("NluEnsemble")
    {
        if (models.Count == 0) throw new ArgumentException("an NLU ensemble needs at least one member", nameof(models));
        if (models.Any(m => m is NluEnsemble)) throw new ArgumentException("an ensemble member cannot itself be an ensemble", nameof(models));
        if (!models[0].HasTagHead) throw new ArgumentException("the first ensemble member must have a tag head (its tags and embedding are served)", nameof(models));
        weights = (memberWeights ?? models.Select(_ => 1.0).ToList()).ToArray();
        if (weights.Length != models.Count) throw new ArgumentException($"{weights.Length} member weights for {models.Count} members", nameof(memberWeights));
        if (weights.Any(w => !double.IsFinite(w) || w <= 0)) throw new ArgumentException("member weights must be finite and > 0", nameof(memberWeights));
        double total = weights.Sum();
        shares = weights.Select(w => w / total).ToArray();
        tagShare = 1.0 / models.Count(m => m.HasTagHead);
        foreach (var m in models) members.Add(m);
        RegisterComponents();
    }

    public IReadOnlyList<NluModel> Members => members.ToList();

    /// <summary>The intent-mean weight of each member, as given (not normalised).</summary>
    public IReadOnlyList<double> MemberWeights => weights;

    /// <summary>The first member's: the labels, vocabulary and positions all members share.</summary>
    public override NluEncoderConfig Config => members[0].Config;

    /// <summary>
    /// Eager forward (training, distillation): logits whose softmax is the weighted mean of the members' intent
    /// probabilities, log(Σ_k w_k softmax(z_k) / Σ w), so a teacher's temperature-T distribution is softmax(log(p̄) / T);
    /// tag logits log(mean over tagging members of softmax).
    /// </summary>
    /// <param name="tokens">[B, T] int64, right-padded with PadTokenId.</param>
    /// <param name="attentionMask">[B, T] int64/bool, 1 for real tokens, 0 for padding.</param>
    public override NluOutput forward(Tensor tokens, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        Tensor? intents = null, tags = null, embedding = null;
        for (int k = 0; k < members.Count; k++)
        {
            var o = members[k].forward(tokens, attentionMask);
            var pi = o.IntentLogits.softmax(-1).Times(shares[k]);     // [B, I]
            intents = intents is null ? pi : intents.Plus(pi);
            if (members[k].HasTagHead)
            {
                var pt = o.TagLogits.softmax(-1);                                // [B, T, G]
                tags = tags is null ? pt : tags.Plus(pt);
            }
            embedding ??= o.Embedding;                                           // [B, E], first member's
        }
        var intentLogits = intents!.clamp_min(ProbabilityFloor).log();                           // [B, I]
        var tagLogits = tags!.Times(tagShare).clamp_min(ProbabilityFloor).log();                 // [B, T, G]
        return new NluOutput(intentLogits.MoveToOuterDisposeScope(), tagLogits.MoveToOuterDisposeScope(), embedding!.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Inference: weighted-mean intent probabilities [B, I], argmax of the tagging members' mean tag probabilities
    /// [B, T], first member's embedding [B, E]. Each encoder runs its own compiled graph (or eager modules, as it
    /// would alone).
    /// </summary>
    public override NluBatchOutput Predict(Tensor tokens, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        var (intents, tags, embedding) = Combine(tokens, attentionMask);
        // The argmax of the sum is the argmax of the mean: no division for the tags.
        return new NluBatchOutput(intents.MoveToOuterDisposeScope(), tags.argmax(-1).MoveToOuterDisposeScope(), embedding.MoveToOuterDisposeScope());
    }

    /// <summary>Weighted-mean intent probabilities [B, I], mean tag probabilities of the tagging members [B, T, G], embedding [B, E].</summary>
    public override NluProbabilities PredictProbabilities(Tensor tokens, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        var (intents, tags, embedding) = Combine(tokens, attentionMask);
        return new NluProbabilities(intents.MoveToOuterDisposeScope(), tags.Times(tagShare).MoveToOuterDisposeScope(), embedding.MoveToOuterDisposeScope());
    }

    /// <summary>Weighted intent mean [B, I], SUM of the tagging members' tag probabilities [B, T, G], first embedding [B, E].</summary>
    private (Tensor Intents, Tensor TagSum, Tensor Embedding) Combine(Tensor tokens, Tensor attentionMask)
    {
        Tensor? intents = null, tags = null, embedding = null;
        for (int k = 0; k < members.Count; k++)
        {
            var p = members[k].PredictProbabilities(tokens, attentionMask);  // [B, I], [B, T, G], [B, E]
            var pi = p.IntentProbs.Times(shares[k]);
            intents = intents is null ? pi : intents.Plus(pi);
            if (members[k].HasTagHead) tags = tags is null ? p.TagProbs : tags.Plus(p.TagProbs);
            embedding ??= p.Embedding;
        }
        return (intents!, tags!, embedding!);
    }

    public override bool UseCompiledGraph
    {
        get => members.All(m => m.UseCompiledGraph);
        set
        {
            foreach (var m in members) m.UseCompiledGraph = value;
        }
    }

    /// <summary>True when every encoder member runs its compiled graph (an n-gram member has none: a few eager ops).</summary>
    public override bool RunsCompiledGraph => members.Where(m => m is not NgramClassifier).All(m => m.RunsCompiledGraph);
}
