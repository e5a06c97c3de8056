using MoltBot.Inference.Kernels;
using MoltBot.Inference.Models;
using MoltBot.Inference.Training.Corpus;
using MoltBot.Inference.Training.Lm;
using MoltBot.Inference.Training.Nlu;

namespace MoltBot.Tests.Training;

/// <summary>
/// The bundled models, scored on the held-out splits. The student-vs-teacher ratio and size targets are the issue's;
/// the absolute accuracy, entity-F1 and agreement checks are regression floors at the level the committed models
/// reach (their MODEL_CARD.md numbers): the teacher accuracy floor is the 95% (round 9: 0.9574); the student's entity F1 floor (0.93) sits above the 0.90 and the LM agreement floor (0.86) above its 85%. See the cards.
/// </summary>
public sealed class CommittedModelTests
{
    private static readonly string Models = Path.Combine(RepoRoot.Path, "models");

    [Fact]
    public void Nlu_teacher_and_int8_student_meet_the_held_out_targets()
    {
        var test = NluJsonlReader.Read(Path.Combine(Models, "corpus", "nlu", "test.jsonl")).Examples;
        using var teacher = ModelFolder.LoadNlu(Path.Combine(Models, "teacher-nlu"), new WeightOnlyKernel());
        using var student = ModelFolder.LoadNlu(Path.Combine(Models, "student-nlu"), new WeightOnlyKernel());
        Assert.Equal("int8", student.Precision);
        var t = NluEvaluator.Evaluate(teacher, test, "teacher", threads: 1);
        var s = NluEvaluator.Evaluate(student, test, "student", threads: 1);
        Assert.True(t.Accuracy >= NluTargets.TeacherAccuracyFloor, $"teacher accuracy {t.Accuracy:P2} < {NluTargets.TeacherAccuracyFloor:P0}");
        Assert.True(s.Accuracy >= NluTargets.StudentShareOfTeacher * t.Accuracy, $"student accuracy {s.Accuracy:P2} < 98% of teacher {t.Accuracy:P2}");
        Assert.True(s.EntityF1 >= NluTargets.StudentEntityF1Floor, $"student entity F1 {s.EntityF1:F3} < {NluTargets.StudentEntityF1Floor}");
    }

    [Fact]
    public void Lm_student_agrees_with_its_teacher_and_is_four_times_smaller()
    {
        var (heldOut, _) = DialogJsonl.Read(Path.Combine(Models, "corpus", "dialog", "heldout.jsonl"));
        using var teacher = ModelFolder.LoadDecoder(Path.Combine(Models, "teacher-lm"), new WeightOnlyKernel());
        using var student = ModelFolder.LoadDecoder(Path.Combine(Models, "student-lm"), new WeightOnlyKernel());
        Assert.Equal("int8", student.Precision);
        var r = LmEvaluator.Evaluate(teacher, student, heldOut, speedPrompts: 2, threads: 1);
        Assert.True(r.Top1Agreement >= 0.86, $"top-1 agreement {r.Top1Agreement:P2} < 86% (committed level 0.89; issue target 85%)");
        Assert.True(r.Teacher.BytesOnDisk >= 4 * r.Student!.BytesOnDisk, $"teacher {r.Teacher.BytesOnDisk:N0} bytes vs student {r.Student.BytesOnDisk:N0}");
    }

    [Fact]
    public void Nlu_student_is_four_times_smaller_than_its_teacher()
    {
        // All member folders of an ensemble teacher count: they are all read for every utterance.
        long Weights(string m) => Directory.GetFiles(Path.Combine(Models, m), "*.safetensors", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        Assert.True(Weights("teacher-nlu") >= 4 * Weights("student-nlu"));
    }
}

/// <summary>Checks for the bundled NLU models: the student/teacher ratio, and floors at the committed level.</summary>
public static class NluTargets
{
    /// <summary>Committed teacher (three encoders + an n-gram member, round 9): 0.9574 on test.jsonl (963 sentences); the target.</summary>
    public const double TeacherAccuracyFloor = 0.95;
    public const double StudentShareOfTeacher = 0.98;
    /// <summary>Committed INT8 student, distilled from the round-9 ensemble: 0.9409 (issue target 0.90, met; the evaluation is deterministic, one thread).</summary>
    public const double StudentEntityF1Floor = 0.93;
}
