using System.Text.Json.Nodes;
using MoltBot.Inference.Engines;
using MoltBot.Inference.Kernels;
using MoltBot.Inference.Models;
using MoltBot.Memory.Vectors;

namespace MoltBot.Tests.Memory;

/// <summary>The HNSW index on what it serves in production: pooled embeddings of the bundled student NLU encoder.</summary>
public class HnswSentenceEmbeddingTests
{
    [Fact]
    public void Recall_at_10_on_student_nlu_embeddings_of_the_corpus_is_at_least_095_at_default_parameters()
    {
        var texts = File.ReadLines(Path.Combine(RepoRoot.Path, "models", "corpus", "nlu", "train.jsonl"))
            .Select(l => JsonNode.Parse(l)!["text"]!.GetValue<string>()).Distinct(StringComparer.Ordinal).ToList();
        using var nlu = ModelFolder.LoadNlu(Path.Combine(RepoRoot.Path, "models", "student-nlu"), new WeightOnlyKernel());
        var vectors = new List<float[]>(texts.Count);
        for (int i = 0; i < texts.Count; i += 64) vectors.AddRange(NluEngine.Run(nlu, texts.GetRange(i, Math.Min(64, texts.Count - i))).Select(r => r.Embedding!));
        var queries = vectors.Where((_, i) => i % 20 == 0).ToArray(); // held out: never inserted
        var data = vectors.Where((_, i) => i % 20 != 0).ToArray();
        Assert.True(data.Length > 3_000, $"{data.Length} sentences");

        using var index = new HnswIndex(data[0].Length, new HnswParameters());
        for (int i = 0; i < data.Length; i++) index.Add(i, data[i]);
        double recall = VectorData.RecallAt(index, data, queries, k: 10, ef: 0);

        Assert.True(recall >= 0.95, $"recall@10 = {recall:F3} over {queries.Length} queries");
    }
}
