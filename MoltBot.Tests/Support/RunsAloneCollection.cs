namespace MoltBot.Tests.Support;

/// <summary>
/// Tests that must not share the process with running neighbours; xunit runs this collection alone, after the
/// parallel ones. Reasons so far: a seeded training run whose assertions depend on its exact path (TorchSharp's global
/// generator is drawn from by every test that builds a model); forced garbage collections in a tight loop (they would
/// pause every other test); measuring libtorch's resident code (other tests running torch fault it back in).
/// </summary>
[CollectionDefinition(nameof(RunsAloneCollection), DisableParallelization = true)]
public sealed class RunsAloneCollection;
