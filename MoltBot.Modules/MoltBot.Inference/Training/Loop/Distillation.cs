using MoltBot.Inference.Models;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace MoltBot.Inference.Training.Loop;

/// <summary>The soft-target term of knowledge distillation.</summary>
public static class Distillation
{
    /// <summary>
    /// T²·KL(softmax(teacher/T) ‖ softmax(student/T)), averaged over rows. <paramref name="student"/> and
    /// <paramref name="teacher"/> are [N, C] logits; T² keeps gradient size independent of T (Hinton et al.).
    /// </summary>
    public static Tensor KlLoss(Tensor student, Tensor teacher, double temperature)
    {
        long rows = Math.Max(1, student.shape[0]);
        var s = F.log_softmax(student.DividedBy(temperature), -1); // explicit scalars: see LiveScalars
        var t = F.log_softmax(teacher.detach().DividedBy(temperature), -1);
        // TorchSharp's kl_div(input, target, log_target: true) = Σ exp(target)·(target − input) = KL(teacher ‖ student).
        return F.kl_div(s, t, reduction: nn.Reduction.Sum, log_target: true).DividedBy(rows).Times(temperature * temperature);
    }
}
