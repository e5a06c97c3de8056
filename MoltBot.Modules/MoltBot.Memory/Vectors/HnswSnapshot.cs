using System.Buffers.Binary;

namespace MoltBot.Memory.Vectors;

/// <summary>
/// The on-disk form of an <see cref="HnswIndex"/>: header, the quantized-walk flag and code statistics (version 2), nodes (id,
/// vector, links per level) and an FNV-1a checksum over everything before it, so a torn or damaged file is detected
/// and rebuilt instead of trusted. Version 1 files (no statistics) still load: the codes are then retrained from the
/// vectors. The 4-bit codes themselves are never stored; they are re-encoded from the vectors on load.
/// </summary>
internal static class HnswSnapshot
{
    private const ulong Magic = 0x31305F57534E484DUL; // "MHNSW_01" little-endian
    private const int Version = 2;

    public sealed record Node(long Id, float[] Vector, int[][] Links);
    public sealed record Graph(IReadOnlyList<Node> Nodes, int Entry, int MaxLevel);
    public sealed record Contents(long Mark, int Dimension, HnswParameters Parameters, Graph Graph, NibbleQuantizer.Statistics? Codes);

    public static void Write(Stream stream, long mark, int dimension, HnswParameters p, Graph graph, NibbleQuantizer.Statistics? codes)
    {
        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write(Version);
            w.Write(mark);
            w.Write(dimension);
            w.Write(p.M);
            w.Write(p.EfConstruction);
            w.Write(p.EfSearch);
            w.Write(p.Seed);
            w.Write(graph.Nodes.Count);
            w.Write(graph.Entry);
            w.Write(graph.MaxLevel);
            w.Write(p.QuantizedWalk ? 1 : 0);
            w.Write(codes is null ? 0 : 1);
            if (codes is not null)
            {
                w.Write(codes.TrainedOn);
                foreach (float f in codes.Center) w.Write(f);
                foreach (float f in codes.Step) w.Write(f);
            }
            foreach (var node in graph.Nodes)
            {
                w.Write(node.Id);
                w.Write(node.Links.Length);
                foreach (float f in node.Vector) w.Write(f);
                foreach (var level in node.Links)
                {
                    w.Write(level.Length);
                    foreach (int n in level) w.Write(n);
                }
            }
        }
        ulong checksum = Fnv1a(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        buffer.WriteTo(stream);
        Span<byte> tail = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(tail, checksum);
        stream.Write(tail);
    }

    public static Contents Read(Stream stream)
    {
        using var all = new MemoryStream();
        stream.CopyTo(all);
        var bytes = all.GetBuffer().AsSpan(0, (int)all.Length);
        if (bytes.Length < 8 + 8) throw new InvalidDataException("HNSW snapshot is truncated.");
        var payload = bytes[..^8];
        if (Fnv1a(payload) != BinaryPrimitives.ReadUInt64LittleEndian(bytes[^8..])) throw new InvalidDataException("HNSW snapshot checksum does not match (torn or damaged file).");

        using var r = new BinaryReader(new MemoryStream(all.GetBuffer(), 0, payload.Length));
        try
        {
            if (r.ReadUInt64() != Magic) throw new InvalidDataException("Not an HNSW snapshot.");
            int version = r.ReadInt32();
            if (version is not (1 or Version)) throw new InvalidDataException($"HNSW snapshot version {version} is not supported.");
            long mark = r.ReadInt64();
            int dim = r.ReadInt32();
            var p = new HnswParameters(r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32());
            int count = r.ReadInt32();
            int entry = r.ReadInt32();
            int maxLevel = r.ReadInt32();
            if (dim < 1 || count < 0) throw new InvalidDataException("HNSW snapshot header is invalid.");
            NibbleQuantizer.Statistics? codes = null;
            if (version >= 2)
            {
                p = p with { QuantizedWalk = r.ReadInt32() != 0 };
            }
            if (version >= 2 && r.ReadInt32() != 0)
            {
                int trainedOn = r.ReadInt32();
                var center = new float[dim];
                var step = new float[dim];
                for (int d = 0; d < dim; d++) center[d] = r.ReadSingle();
                for (int d = 0; d < dim; d++) step[d] = r.ReadSingle();
                codes = new NibbleQuantizer.Statistics(center, step, trainedOn);
            }
            var nodes = new List<Node>(count);
            for (int i = 0; i < count; i++)
            {
                long id = r.ReadInt64();
                int levels = r.ReadInt32();
                if (levels < 1 || levels > 64) throw new InvalidDataException($"HNSW snapshot node {i} has {levels} levels.");
                var v = new float[dim];
                for (int d = 0; d < dim; d++) v[d] = r.ReadSingle();
                var links = new int[levels][];
                for (int l = 0; l < levels; l++)
                {
                    int n = r.ReadInt32();
                    if (n < 0 || n > 10_000) throw new InvalidDataException($"HNSW snapshot node {i} has {n} links.");
                    links[l] = new int[n];
                    for (int j = 0; j < n; j++) links[l][j] = r.ReadInt32();
                }
                nodes.Add(new Node(id, v, links));
            }
            return new Contents(mark, dim, p, new Graph(nodes, entry, maxLevel), codes);
        }
        catch (EndOfStreamException ex)
        {
            throw new InvalidDataException("HNSW snapshot is truncated.", ex);
        }
    }

    private static ulong Fnv1a(ReadOnlySpan<byte> data)
    {
        ulong hash = 14695981039346656037UL;
        foreach (byte b in data)
        {
            hash ^= b;
            hash *= 1099511628211UL;
        }
        return hash;
    }
}
