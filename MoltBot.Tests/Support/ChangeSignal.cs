namespace MoltBot.Tests;

/// <summary>
/// Lets a test wait for a condition on growing output (console text, a child's stdout) without polling on a timer:
/// whoever appends calls <see cref="Pulse"/>, and the waiter re-checks its condition on each pulse.
/// </summary>
public sealed class ChangeSignal
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Pulse() => Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>
    /// True once <paramref name="condition"/> holds; false when <paramref name="timeout"/> passes or
    /// <paramref name="stopWhenCompleted"/> completes first (the caller asserts on which, with its own message).
    /// </summary>
    public async Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan timeout, Task? stopWhenCompleted = null)
    {
        using var expired = new CancellationTokenSource(timeout);
        while (true)
        {
            var changed = Volatile.Read(ref _next).Task; // taken before the check, so no pulse is missed in between
            if (condition()) return true;
            if (stopWhenCompleted is { IsCompleted: true }) return false;
            try
            {
                await (stopWhenCompleted is null ? changed : Task.WhenAny(changed, stopWhenCompleted)).WaitAsync(expired.Token);
            }
            catch (OperationCanceledException) when (expired.IsCancellationRequested)
            {
                return condition();
            }
        }
    }
}

/// <summary>
/// An in-memory text writer (what a captured console is written to) whose writes pulse a <see cref="ChangeSignal"/>;
/// writes and reads are locked, since the waiter reads while the console writes from other threads.
/// </summary>
public sealed class ObservedStringWriter : TextWriter
{
    private readonly System.Text.StringBuilder _text = new();
    private readonly Lock _gate = new();

    public ChangeSignal Changed { get; } = new();

    public override System.Text.Encoding Encoding => System.Text.Encoding.Unicode;

    // Every other TextWriter overload ends in one of these.
    public override void Write(char value) => Append(b => b.Append(value));
    public override void Write(string? value) => Append(b => b.Append(value));
    public override void Write(char[] buffer, int index, int count) => Append(b => b.Append(buffer, index, count));
    public override void Write(ReadOnlySpan<char> buffer)
    {
        lock (_gate) _text.Append(buffer);
        Changed.Pulse();
    }

    private void Append(Action<System.Text.StringBuilder> append)
    {
        lock (_gate) append(_text);
        Changed.Pulse();
    }

    public override string ToString()
    {
        lock (_gate) return _text.ToString();
    }

    /// <summary>Waits until the text written so far satisfies <paramref name="condition"/> (see <see cref="ChangeSignal.WaitUntilAsync"/>).</summary>
    public Task<bool> WaitForAsync(Func<string, bool> condition, TimeSpan timeout, Task? stopWhenCompleted = null) =>
        Changed.WaitUntilAsync(() => condition(ToString()), timeout, stopWhenCompleted);
}
