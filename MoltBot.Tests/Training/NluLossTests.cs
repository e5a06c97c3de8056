using MoltBot.Inference.Training.Corpus;
using MoltBot.Inference.Training.Nlu;
using TorchSharp;
using F = TorchSharp.torch.nn.functional;

namespace MoltBot.Tests.Training;

public sealed class NluLossTests
{
    [Fact]
    public void Intent_loss_matches_cross_entropy_with_and_without_class_weights_and_smoothing_mixes_in_the_uniform_target()
    {
        using var scope = torch.NewDisposeScope();
        var logits = torch.tensor(new float[] { 2f, 0.5f, -1f, 0.1f, 0.2f, 3f, 1f, 1f, 1f }, [3, 3]);
        var targets = torch.tensor(new long[] { 0, 2, 1 });
        var weights = torch.tensor(new float[] { 0.5f, 2f, 1f });
        Assert.Equal(F.cross_entropy(logits, targets).item<float>(), NluTrainer.IntentLoss(logits, targets, null, 0).item<float>(), 5);
        Assert.Equal(F.cross_entropy(logits, targets, weight: weights).item<float>(), NluTrainer.IntentLoss(logits, targets, weights, 0).item<float>(), 5);
        float uniform = (-F.log_softmax(logits, 1).mean()).item<float>();
        float expected = 0.9f * F.cross_entropy(logits, targets).item<float>() + 0.1f * uniform;
        Assert.Equal(expected, NluTrainer.IntentLoss(logits, targets, null, 0.1).item<float>(), 5);
    }

    [Fact]
    public void Balanced_weights_give_a_rare_intent_more_weight_and_average_one()
    {
        var ex = new NluExample("x", "en", "greet", []);
        var train = new[] { 0, 0, 0, 1 }.Select(i => new EncodedNluExample(ex, [1], [], [0], i)).ToList();
        using var w = NluTrainer.BalancedWeights(train, 3);
        var v = w.data<float>().ToArray();
        Assert.Equal(4.0 / 6, v[0], 5);
        Assert.Equal(2.0, v[1], 5);
        Assert.Equal(1.0, v[2], 5); // absent intent: neutral
    }
}
