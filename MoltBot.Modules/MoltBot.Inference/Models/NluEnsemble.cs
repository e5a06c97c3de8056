using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MoltBot.Inference.Models;

/// <summary>
/// An ensemble of <see cref="NluEncoder"/>s that share one tokenizer and one label set (model_type
/// moltbot_nlu_ensemble): intent probabilities and per-token BIO tag probabilities are the mean of the members'
/// probabilities; the sentence embedding is the first member's (members' embedding spaces are unrelated, so a mean
/// of them would mean nothing). Members may differ in size and depth.
/// Tensor names: members.K.encoder.…, members.K.intent_head.…, one <see cref="NluEncoder"/> per K.
/// </summary>
public sealed class NluEnsemble : NluModel
{
    // Floor under the mean probability before the log: a member's softmax can underflow to 0 in FP32, and log(0) = -inf
    // turns the distillation KL into NaN (0 · -inf). Rooted for the process (see LiveScalars).
    private static readonly Scalar ProbabilityFloor = 1e-12.ToScalar();

    private readonly ModuleList<NluEncoder> members = new();

    /// <param name="encoders">At least one; they must agree on vocabulary, padding, positions, labels and embedding size.</param>
    public NluEnsemble(IReadOnlyList<NluEncoder> encoders) : base("NluEnsemble")
    {
        if (encoders.Count == 0) throw new ArgumentException("an NLU ensemble needs at least one member", nameof(encoders));
        foreach (var e in encoders) members.Add(e);
        RegisterComponents();
    }

    public IReadOnlyList<NluEncoder> Members => members.ToList();

    /// <summary>The first member's: the labels, vocabulary and positions all members share.</summary>
    public override NluEncoderConfig Config => members[0].Config;

    /// <summary>
    /// Eager forward (training, distillation): logits whose softmax is the mean of the members' probabilities,
    /// log(mean_k softmax(z_k)), so a teacher's temperature-T distribution is softmax(log(p̄) / T).
    /// </summary>
    /// <param name="tokens">[B, T] int64, right-padded with PadTokenId.</param>
    /// <param name="attentionMask">[B, T] int64/bool, 1 for real tokens, 0 for padding.</param>
    public override NluOutput forward(Tensor tokens, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        Tensor? intents = null, tags = null, embedding = null;
        foreach (var member in members)
        {
            var o = member.forward(tokens, attentionMask);
            var pi = o.IntentLogits.softmax(-1);                          // [B, I]
            var pt = o.TagLogits.softmax(-1);                             // [B, T, G]
            intents = intents is null ? pi : intents.Plus(pi);
            tags = tags is null ? pt : tags.Plus(pt);
            embedding ??= o.Embedding;                                     // [B, E], first member's
        }
        var intentLogits = intents!.DividedBy(members.Count).clamp_min(ProbabilityFloor).log();   // [B, I]
        var tagLogits = tags!.DividedBy(members.Count).clamp_min(ProbabilityFloor).log();         // [B, T, G]
        return new NluOutput(intentLogits.MoveToOuterDisposeScope(), tagLogits.MoveToOuterDisposeScope(), embedding!.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Inference: mean intent probabilities [B, I], argmax of the mean tag probabilities [B, T], first member's
    /// embedding [B, E]. Each member runs its own compiled graph (or eager modules, as it would alone).
    /// </summary>
    public override NluBatchOutput Predict(Tensor tokens, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        Tensor? intents = null, tags = null, embedding = null;
        foreach (var member in members)
        {
            var p = member.PredictProbabilities(tokens, attentionMask);  // [B, I], [B, T, G], [B, E]
            intents = intents is null ? p.IntentProbs : intents.Plus(p.IntentProbs);
            tags = tags is null ? p.TagProbs : tags.Plus(p.TagProbs);
            embedding ??= p.Embedding;
        }
        // The argmax of the sum is the argmax of the mean: no division for the tags.
        return new NluBatchOutput(intents!.DividedBy(members.Count).MoveToOuterDisposeScope(), tags!.argmax(-1).MoveToOuterDisposeScope(),
            embedding!.MoveToOuterDisposeScope());
    }

    public override bool UseCompiledGraph
    {
        get => members.All(m => m.UseCompiledGraph);
        set
        {
            foreach (var m in members) m.UseCompiledGraph = value;
        }
    }

    public override bool RunsCompiledGraph => members.All(m => m.RunsCompiledGraph);
}
