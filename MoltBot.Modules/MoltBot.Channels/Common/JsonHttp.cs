using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace MoltBot.Channels.Common;

/// <summary>Small helpers for the JSON REST calls the adapters make (one attempt each; Polly retries around them).</summary>
internal static class JsonHttp
{
    public static HttpClient CreateClient() => new(new SocketsHttpHandler
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectTimeout = TimeSpan.FromSeconds(10),
    })
    {
        // Per-attempt timeouts come from the Polly pipeline.
        Timeout = Timeout.InfiniteTimeSpan,
    };

    public static HttpRequestMessage Post(string url, object body, AuthenticationHeaderValue? auth = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = auth;
        return request;
    }

    /// <summary>Sends, and returns the body of a 2xx answer; other answers become the matching channel exception.</summary>
    public static async Task<string> SendAsync(HttpClient http, HttpRequestMessage request, string platform, CancellationToken cancellationToken,
        Func<HttpResponseMessage, string, TimeSpan?>? retryAfterFromBody = null)
    {
        using (request)
        {
            using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (response.IsSuccessStatusCode) return body;
            throw HttpFailures.From(platform, response, body, retryAfterFromBody?.Invoke(response, body));
        }
    }

    public static string Combine(string baseUrl, string path) => baseUrl.TrimEnd('/') + "/" + path.TrimStart('/');
}
