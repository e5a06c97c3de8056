namespace MoltBot.Contracts.Configuration;

/// <summary>
/// A start-up failure whose message is complete and actionable on its own (e.g. "Models:Directory 'x' does not
/// exist"). The host prints just the message, one line, and exits with code 2: no stack trace.
/// </summary>
public sealed class StartupException(string message, Exception? inner = null) : Exception(message, inner);
