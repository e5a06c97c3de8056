using System.Diagnostics;
using MoltBot.Inference.Models;
using MoltBot.Inference.Tokenization;
using MoltBot.Inference.Training.Corpus;
using MoltBot.Inference.Training.Metrics;
using TorchSharp;
using static TorchSharp.torch;

namespace MoltBot.Inference.Training.Nlu;

/// <summary>
/// Scores a loaded NLU model on labelled examples, one utterance at a time as in serving (so the latency
/// percentiles are per request): intent = argmax of the intent head, entities = decoded BIO tags.
/// </summary>
public static class NluEvaluator
{
    /// <param name="onPrediction">Told about every example with its prediction (e.g. to list the errors).</param>
    public static NluReport Evaluate(LoadedNlu nlu, IReadOnlyList<NluExample> examples, string modelName, int threads = 2,
        Action<NluExample, NluPrediction>? onPrediction = null)
    {
        torch.set_num_threads(threads);
        var aligner = TokenAligner.Load(nlu.Folder);
        var model = nlu.Model;
        model.eval();
        using var mode = torch.inference_mode();
        var predictions = new List<NluPrediction>(examples.Count);
        // One warm-up pass so the first measured latency is not the native library's lazy initialisation.
        if (examples.Count > 0) Predict(nlu, aligner, examples[0].Text);
        foreach (var ex in examples)
        {
            var sw = Stopwatch.StartNew();
            var (intent, entities) = Predict(nlu, aligner, ex.Text);
            sw.Stop();
            predictions.Add(new NluPrediction(ex.Intent, ex.Entities, intent, entities, sw.Elapsed.TotalMilliseconds));
            onPrediction?.Invoke(ex, predictions[^1]);
        }
        return NluScorer.Score(modelName, predictions);
    }

    public static (string Intent, List<MoltBot.Contracts.Inference.EntitySpan> Entities) Predict(LoadedNlu nlu, TokenAligner aligner, string text)
    {
        var config = nlu.Config;
        var ids = nlu.Tokenizer.Encode(text).ToArray();
        var spans = aligner.Align(text, ids);
        if (ids.Length > config.MaxPositionEmbeddings)
        {
            ids = ids[..config.MaxPositionEmbeddings];
            spans = spans[..config.MaxPositionEmbeddings];
        }
        if (ids.Length == 0) return (config.Intents[0], []);
        using var scope = torch.NewDisposeScope();
        var input = torch.tensor(ids.Select(i => (long)i).ToArray(), [1, ids.Length]);
        var mask = torch.ones(1, ids.Length, ScalarType.Int64);
        // Predict, not forward: the compiled graph the engine serves (INT8 kernels for a student), so the latency and
        // the labels are those of serving. Argmax of the probabilities = argmax of the logits.
        using var output = nlu.Model.Predict(input, mask);
        int intent = (int)output.IntentProbs.argmax(1).item<long>();
        var tags = output.Tags[0].data<long>().Select(t => (int)t).ToArray();
        return (config.Intents[intent], BioCodec.Decode(text, spans, tags, config.BioTags));
    }
}
