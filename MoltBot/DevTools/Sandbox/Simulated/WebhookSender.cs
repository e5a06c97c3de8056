using System.Net;
using System.Text;

namespace MoltBot.DevTools.Sandbox.Simulated;

/// <summary>
/// Delivers a webhook to MoltBot the way the platforms do: a 503 or 429 (MoltBot's inbound queue is full) is retried
/// after Retry-After with the same body, so back-pressure slows the simulated users down instead of losing messages.
/// </summary>
internal sealed class WebhookSender : IDisposable
{
    private const int MaxAttempts = 10;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public async Task PostAsync(Uri url, string body, IReadOnlyDictionary<string, string>? headers, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            foreach (var (name, value) in headers ?? new Dictionary<string, string>()) request.Headers.Add(name, value);
            using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode is HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests && attempt < MaxAttempts)
            {
                var wait = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1);
                await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
                continue;
            }
            response.EnsureSuccessStatusCode();
            return;
        }
    }

    public void Dispose() => _http.Dispose();
}
