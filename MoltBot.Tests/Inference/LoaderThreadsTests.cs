using MoltBot.Inference.Engines;
using TorchSharp;

namespace MoltBot.Tests.Inference;

public class LoaderThreadsTests
{
    /// <summary>
    /// Start-up loads see one torch thread; the calling thread gets its count back afterwards, and another thread
    /// running torch at the same time keeps its own count (OpenMP's count is per thread).
    /// </summary>
    [Fact]
    public async Task A_load_runs_with_one_torch_thread_and_only_on_its_own_thread()
    {
        Assert.True(LoaderThreads.Available, "libtorch's libgomp entry points were not found");
        int outside = await RunOnNewThread(() =>
        {
            torch.set_num_threads(2);
            int inLoad = LoaderThreads.RunSingleThreaded(torch.get_num_threads);
            int otherThreadDuringLoad = 0;
            LoaderThreads.RunSingleThreaded(() =>
            {
                // A thread's first torch call takes the process-wide count: still 2, not the loader's 1.
                otherThreadDuringLoad = JoinNewThread(torch.get_num_threads);
                return 0;
            });
            Assert.Equal(1, inLoad);
            Assert.Equal(2, otherThreadDuringLoad);
            return torch.get_num_threads();
        });
        Assert.Equal(2, outside); // restored on the loading thread
    }

    [Fact]
    public async Task The_count_is_restored_when_the_load_throws()
    {
        int after = await RunOnNewThread(() =>
        {
            torch.set_num_threads(2);
            Assert.Throws<InvalidOperationException>(() => LoaderThreads.RunSingleThreaded<int>(() => throw new InvalidOperationException("broken model")));
            return torch.get_num_threads();
        });
        Assert.Equal(2, after);
    }

    private static int JoinNewThread(Func<int> body)
    {
        int result = 0;
        var thread = new Thread(() => result = body());
        thread.Start();
        thread.Join();
        return result;
    }

    /// <summary>A dedicated thread, so no pool thread keeps a test's torch settings.</summary>
    private static Task<int> RunOnNewThread(Func<int> body)
    {
        var done = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try { done.SetResult(body()); }
            catch (Exception ex) { done.SetException(ex); }
        });
        thread.Start();
        return done.Task;
    }
}
