using static TorchSharp.torch;

namespace MoltBot.Inference.Models;

/// <summary>
/// What serving, evaluation and distillation need from an NLU model: one <see cref="NluEncoder"/>, one
/// <see cref="NgramClassifier"/> (intents only), or an <see cref="NluEnsemble"/> of them. <see cref="Config"/> carries what callers share with the model (vocabulary,
/// padding, positions, labels, embedding size); for an ensemble it is its first member's.
/// </summary>
public abstract class NluModel(string name) : nn.Module<Tensor, Tensor, NluOutput>(name)
{
    public abstract NluEncoderConfig Config { get; }

    /// <summary>Inference: intent probabilities [B, I], BIO tag ids [B, T] (int64), sentence embedding [B, E].</summary>
    /// <param name="tokens">[B, T] int64, right-padded with PadTokenId.</param>
    /// <param name="attentionMask">[B, T] int64/bool, 1 for real tokens, 0 for padding.</param>
    public abstract NluBatchOutput Predict(Tensor tokens, Tensor attentionMask);

    /// <summary>
    /// Like <see cref="Predict"/> but with BIO tag probabilities [B, T, G] instead of ids: what an ensemble averages.
    /// </summary>
    public abstract NluProbabilities PredictProbabilities(Tensor tokens, Tensor attentionMask);

    /// <summary>
    /// False for a model without a BIO tag head (<see cref="NgramClassifier"/>): its tag output is a constant "O",
    /// training puts no tag loss on it, and an ensemble takes its tags from the members that have one.
    /// </summary>
    public virtual bool HasTagHead => true;

    /// <summary>Run <see cref="Predict"/> as compiled graphs when possible (default); false forces the eager modules.</summary>
    public abstract bool UseCompiledGraph { get; set; }

    /// <summary>True when <see cref="Predict"/> runs compiled graphs (inference, no BF16 layer).</summary>
    public abstract bool RunsCompiledGraph { get; }

    /// <summary>Every projection and head, by parameter-name prefix (for INT8/BF16 switching and parameter counts).</summary>
    public IEnumerable<(string Name, LinearLayer Layer)> LinearLayers() =>
        named_modules().Where(m => m.module is LinearLayer).Select(m => (m.name, (LinearLayer)m.module));
}
