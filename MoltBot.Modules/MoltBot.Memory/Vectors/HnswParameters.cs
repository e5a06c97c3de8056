namespace MoltBot.Memory.Vectors;

/// <summary>
/// HNSW build and search parameters (Malkov &amp; Yashunin). <paramref name="M"/>: links per node on the upper
/// layers (2·M on layer 0); <paramref name="EfConstruction"/>: candidate list size while inserting;
/// <paramref name="EfSearch"/>: candidate list size while searching (at least k is used).
/// <paramref name="QuantizedWalk"/>: queries walk the graph on 4-bit codes of the vectors and re-rank what they find
/// with exact floats — several times faster on large indexes of high-dimensional, spread-out vectors (the walk is
/// bound by memory, and a code is an eighth of the floats), but coarse where neighbours are packed close together
/// (clustered sentence embeddings lose recall at small ef), so it is off by default.
/// </summary>
public sealed record HnswParameters(int M = 16, int EfConstruction = 200, int EfSearch = 64, int Seed = 42, bool QuantizedWalk = false)
{
    public void Validate()
    {
        if (M < 2) throw new ArgumentOutOfRangeException(nameof(M), M, "M must be at least 2.");
        if (EfConstruction < 1) throw new ArgumentOutOfRangeException(nameof(EfConstruction), EfConstruction, "EfConstruction must be at least 1.");
        if (EfSearch < 1) throw new ArgumentOutOfRangeException(nameof(EfSearch), EfSearch, "EfSearch must be at least 1.");
    }
}

/// <param name="Distance">Cosine distance, 1 − cosine similarity (0 = same direction).</param>
public readonly record struct VectorHit(long Id, float Distance)
{
    public float Similarity => 1f - Distance;
}
