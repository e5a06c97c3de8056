namespace MoltBot.Tests.Training;

/// <summary>
/// Tests whose assertions depend on a seeded training run taking the same path every time. The trainer seeds
/// TorchSharp's global generator, which every test that builds a model also draws from (module initialisers use it),
/// so these tests run alone, after the parallel ones, where the seed alone decides the run.
/// </summary>
[CollectionDefinition(nameof(SeededTrainingCollection), DisableParallelization = true)]
public sealed class SeededTrainingCollection;
