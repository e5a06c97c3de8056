using MoltBot.Inference.Models;

namespace MoltBot.Tests.Inference;

/// <summary>
/// An independent, plain-C# (no TorchSharp) forward pass of the Llama-family decoder, written from the HF
/// modeling code's definition: RMSNorm, rotate-half RoPE, GQA causal attention, SwiGLU, tied/untied head.
/// Weights come in as HF-named float arrays.
/// </summary>
public sealed class ScalarReferenceDecoder(DecoderConfig c, IReadOnlyDictionary<string, (float[] Data, long[] Shape)> w)
{
    /// <returns>logits [T][V] for one sequence.</returns>
    public double[][] Forward(IReadOnlyList<int> tokens)
    {
        int T = tokens.Count, D = c.HiddenSize, H = c.NumAttentionHeads, KvH = c.NumKeyValueHeads, hd = c.HeadDim;
        var emb = w["model.embed_tokens.weight"].Data;
        var x = new double[T][];
        for (int t = 0; t < T; t++) x[t] = Enumerable.Range(0, D).Select(i => (double)emb[tokens[t] * D + i]).ToArray();
        for (int l = 0; l < c.NumHiddenLayers; l++)
        {
            string p = $"model.layers.{l}.";
            var q = new double[T][]; var k = new double[T][]; var v = new double[T][];
            for (int t = 0; t < T; t++)
            {
                var n = RmsNorm(x[t], w[p + "input_layernorm.weight"].Data);
                q[t] = Linear(n, p + "self_attn.q_proj");
                k[t] = Linear(n, p + "self_attn.k_proj");
                v[t] = Linear(n, p + "self_attn.v_proj");
                for (int h = 0; h < H; h++) Rope(q[t], h * hd, hd, t);
                for (int h = 0; h < KvH; h++) Rope(k[t], h * hd, hd, t);
            }
            for (int t = 0; t < T; t++)
            {
                var att = new double[H * hd];
                for (int h = 0; h < H; h++)
                {
                    int kh = h / (H / KvH);
                    var scores = new double[t + 1];
                    for (int s = 0; s <= t; s++)
                    {
                        double dot = 0;
                        for (int i = 0; i < hd; i++) dot += q[t][h * hd + i] * k[s][kh * hd + i];
                        scores[s] = dot / Math.Sqrt(hd);
                    }
                    double max = scores.Max(), sum = 0;
                    for (int s = 0; s <= t; s++) sum += scores[s] = Math.Exp(scores[s] - max);
                    for (int s = 0; s <= t; s++)
                        for (int i = 0; i < hd; i++) att[h * hd + i] += scores[s] / sum * v[s][kh * hd + i];
                }
                var o = Linear(att, p + "self_attn.o_proj");
                for (int i = 0; i < D; i++) x[t][i] += o[i];
            }
            for (int t = 0; t < T; t++)
            {
                var n = RmsNorm(x[t], w[p + "post_attention_layernorm.weight"].Data);
                var g = Linear(n, p + "mlp.gate_proj");
                var u = Linear(n, p + "mlp.up_proj");
                for (int i = 0; i < g.Length; i++) g[i] = g[i] / (1 + Math.Exp(-g[i])) * u[i];
                var dn = Linear(g, p + "mlp.down_proj");
                for (int i = 0; i < D; i++) x[t][i] += dn[i];
            }
        }
        var logits = new double[T][];
        string head = c.TieWordEmbeddings ? "model.embed_tokens" : "lm_head";
        for (int t = 0; t < T; t++) logits[t] = Linear(RmsNorm(x[t], w["model.norm.weight"].Data), head);
        return logits;
    }

    private double[] RmsNorm(double[] x, float[] g)
    {
        double ms = x.Sum(a => a * a) / x.Length;
        double r = 1 / Math.Sqrt(ms + c.RmsNormEps);
        return x.Select((a, i) => a * r * g[i]).ToArray();
    }

    private double[] Linear(double[] x, string name)
    {
        var (data, shape) = w[name + ".weight"];
        int outF = (int)shape[0], inF = (int)shape[1];
        var y = new double[outF];
        w.TryGetValue(name + ".bias", out var bias);
        for (int o = 0; o < outF; o++)
        {
            double s = bias.Data is null ? 0 : bias.Data[o];
            for (int i = 0; i < inF; i++) s += data[o * inF + i] * x[i];
            y[o] = s;
        }
        return y;
    }

    /// <summary>HF rotate-half: pairs (i, i + d/2) rotate by angle pos·θ^(-2i/d).</summary>
    private void Rope(double[] v, int offset, int hd, int pos)
    {
        int half = hd / 2;
        for (int i = 0; i < half; i++)
        {
            double angle = pos * Math.Pow(c.RopeTheta, -2.0 * i / hd);
            double cos = Math.Cos(angle), sin = Math.Sin(angle);
            double a = v[offset + i], b = v[offset + i + half];
            v[offset + i] = a * cos - b * sin;
            v[offset + i + half] = b * cos + a * sin;
        }
    }
}
