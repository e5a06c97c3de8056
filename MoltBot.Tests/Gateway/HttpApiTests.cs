using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Admin;
using MoltBot.Contracts.Inference;

namespace MoltBot.Tests.Gateway;

public class HttpApiTests
{
    private static HttpClient Authorized(TestHost host)
    {
        var client = host.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayFixture.Token);
        return client;
    }

    private static async Task<JsonObject> Json(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();

    [Fact]
    public async Task Post_message_waits_for_the_reply_and_the_conversation_history_lists_both()
    {
        var (host, _) = await GatewayFixture.StartAsync();
        await using var _h = host;
        using var client = Authorized(host);

        var response = await client.PostAsJsonAsync("/v1/messages", new { user = "carol", text = "how are you", lang = "en" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await Json(response);
        Assert.Equal("carol", (string?)body["conversation"]);
        Assert.Equal("echo: how are you", (string?)body["reply"]!["text"]);
        Assert.False((bool)body["reply"]!["failed"]!);

        var history = await Json(await client.GetAsync("/v1/conversations/carol/messages?limit=10"));
        var messages = history["messages"]!.AsArray();
        Assert.Equal(["in", "out"], messages.Select(m => (string)m!["direction"]!));
        Assert.Equal(["how are you", "echo: how are you"], messages.Select(m => (string)m!["text"]!));
    }

    [Fact]
    public async Task Requests_without_or_with_a_wrong_token_get_401_with_an_openai_style_error()
    {
        var (host, _) = await GatewayFixture.StartAsync();
        await using var _h = host;
        using var client = host.CreateClient();
        var missing = await client.PostAsJsonAsync("/v1/chat/completions", new { messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        var error = (await Json(missing))["error"]!;
        Assert.Equal("missing_api_key", (string?)error["code"]);
        Assert.Equal("authentication_error", (string?)error["type"]);
        Assert.NotNull(error["message"]);

        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "not-the-token-at-all");
        var wrong = await client.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal("invalid_api_key", (string?)(await Json(wrong))["error"]!["code"]);
    }

    [Fact]
    public async Task Malformed_bodies_get_400_with_a_specific_code()
    {
        var (host, _) = await GatewayFixture.StartAsync();
        await using var _h = host;
        using var client = Authorized(host);

        var badJson = await client.PostAsync("/v1/messages", new StringContent("{oops", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, badJson.StatusCode);
        Assert.Equal("invalid_json", (string?)(await Json(badJson))["error"]!["code"]);

        var wrongType = await client.PostAsJsonAsync("/v1/messages", new { user = "u", text = 5 });
        Assert.Equal(HttpStatusCode.BadRequest, wrongType.StatusCode);
        Assert.Equal("invalid_field", (string?)(await Json(wrongType))["error"]!["code"]);

        var noUserMessage = await client.PostAsJsonAsync("/v1/chat/completions", new { model = "moltbot", messages = new[] { new { role = "system", content = "be nice" } } });
        Assert.Equal(HttpStatusCode.BadRequest, noUserMessage.StatusCode);
        Assert.Equal("messages", (string?)(await Json(noUserMessage))["error"]!["param"]);
    }

    [Fact]
    public async Task Chat_completions_answers_in_openai_shape_and_one_user_continues_one_conversation()
    {
        var (host, _) = await GatewayFixture.StartAsync();
        await using var _h = host;
        using var client = Authorized(host);

        async Task<JsonObject> Ask(string text, string? conversation = null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
            {
                Content = JsonContent.Create(new
                {
                    model = "moltbot",
                    user = "dave",
                    messages = new object[] { new { role = "system", content = "You are helpful." }, new { role = "user", content = text } },
                }),
            };
            if (conversation is not null) request.Headers.Add("X-MoltBot-Conversation", conversation);
            var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await Json(response);
        }

        var first = await Ask("first question");
        Assert.Equal("chat.completion", (string?)first["object"]);
        Assert.StartsWith("chatcmpl-", (string?)first["id"]);
        Assert.Equal("moltbot", (string?)first["model"]);
        Assert.True((long)first["created"]! > 1_600_000_000);
        var choice = first["choices"]![0]!;
        Assert.Equal("assistant", (string?)choice["message"]!["role"]);
        Assert.Equal("echo: first question", (string?)choice["message"]!["content"]);
        Assert.Equal("stop", (string?)choice["finish_reason"]);
        Assert.True((int)first["usage"]!["total_tokens"]! > 0);

        await Ask("second question");
        await Ask("elsewhere", conversation: "side-topic");

        var dave = (await Json(await client.GetAsync("/v1/conversations/dave/messages")))["messages"]!.AsArray();
        Assert.Equal(["first question", "echo: first question", "second question", "echo: second question"], dave.Select(m => (string)m!["text"]!));
        var side = (await Json(await client.GetAsync("/v1/conversations/side-topic/messages")))["messages"]!.AsArray();
        Assert.Equal(["elsewhere", "echo: elsewhere"], side.Select(m => (string)m!["text"]!));
        Assert.All(side, m => Assert.Equal("dave", (string?)m!["user"]));
    }

    [Fact]
    public async Task Chat_completions_streams_openai_chunks_over_sse_ending_with_done()
    {
        var (host, _) = await GatewayFixture.StartAsync();
        await using var _h = host;
        using var client = Authorized(host);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""
                {"model":"moltbot","stream":true,"user":"erin","messages":[{"role":"user","content":"stream this please"}]}
                """, Encoding.UTF8, "application/json"),
        };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);

        var events = new List<string>();
        using (var reader = new StreamReader(await response.Content.ReadAsStreamAsync()))
        {
            while (await reader.ReadLineAsync() is { } line)
            {
                if (line.Length == 0) continue;
                Assert.StartsWith("data: ", line);
                events.Add(line["data: ".Length..]);
            }
        }
        Assert.Equal("[DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonNode.Parse(e)!.AsObject()).ToList();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", (string?)c["object"]));
        Assert.Single(chunks.Select(c => (string)c["id"]!).Distinct());
        Assert.Equal("assistant", (string?)chunks[0]["choices"]![0]!["delta"]!["role"]);
        string content = string.Concat(chunks.Select(c => (string?)c["choices"]![0]!["delta"]!["content"] ?? ""));
        Assert.Equal("echo: stream this please", content);
        // Token by token: one chunk per streamed delta (4 words), then the closing chunk.
        Assert.Equal(4, chunks.Count(c => !string.IsNullOrEmpty((string?)c["choices"]![0]!["delta"]!["content"])));
        Assert.Equal("stop", (string?)chunks[^1]["choices"]![0]!["finish_reason"]);
        Assert.All(chunks[..^1], c => Assert.Null((string?)c["choices"]![0]!["finish_reason"]));
    }

    [Fact]
    public async Task Models_lists_moltbot_and_the_catalog()
    {
        var (host, _) = await GatewayFixture.StartAsync(configure: b =>
            b.Services.AddSingleton<IModelCatalog>(new FixedCatalog([new ModelInfo("student-lm", "lm", "int8", 1000, true)])));
        await using var _h = host;
        using var client = Authorized(host);
        var body = await Json(await client.GetAsync("/v1/models"));
        Assert.Equal("list", (string?)body["object"]);
        var ids = body["data"]!.AsArray().Select(m => (string)m!["id"]!).ToList();
        Assert.Equal(["moltbot", "student-lm"], ids);
        Assert.All(body["data"]!.AsArray(), m => Assert.Equal("model", (string?)m!["object"]));
    }

    private sealed class FixedCatalog(IReadOnlyList<ModelInfo> models) : IModelCatalog
    {
        public IReadOnlyList<ModelInfo> Models => models;
    }

    [Fact]
    public async Task A_full_inbound_queue_answers_503_with_retry_after_and_loses_nothing_accepted()
    {
        var (host, handler) = await GatewayFixture.StartAsync(new Dictionary<string, string>
        {
            ["Pipeline:InboundCapacity"] = "1",
            ["Pipeline:ShardCount"] = "1",
            ["Pipeline:ShardCapacity"] = "1",
        });
        await using var _h = host;
        using var client = Authorized(host);

        // "hold" blocks the only worker; the shard queue and the inbound queue then fill up. Posts go one at a time until
        // one is refused; the 300 ms wait only paces them (an accepted post hangs until the worker is released), the
        // outcome of every post is read from its answer at the end.
        var held = client.PostAsJsonAsync("/v1/messages", new { user = "u0", text = "hold" });
        var posts = new List<(string Text, Task<HttpResponseMessage> Post)> { ("hold", held) };
        bool refusedSeen = false;
        for (int i = 1; i < 20 && !refusedSeen; i++)
        {
            await handler.WaitForCallsAsync(1, TimeSpan.FromSeconds(30));
            string text = "queued " + i;
            var post = client.PostAsJsonAsync("/v1/messages", new { user = "u" + i, text });
            posts.Add((text, post));
            var done = await Task.WhenAny(post, Task.Delay(300));
            refusedSeen = done == post && (await post).StatusCode == HttpStatusCode.ServiceUnavailable;
        }

        handler.Release();
        var answers = new List<(string Text, HttpResponseMessage Response)>();
        foreach (var (text, post) in posts) answers.Add((text, await post.WaitAsync(TimeSpan.FromSeconds(60))));
        var refused = answers.Where(a => a.Response.StatusCode == HttpStatusCode.ServiceUnavailable).ToList();
        var accepted = answers.Where(a => a.Response.StatusCode == HttpStatusCode.OK).ToList();
        Assert.NotEmpty(refused);
        Assert.Equal(answers.Count, refused.Count + accepted.Count);
        foreach (var (_, response) in refused)
        {
            Assert.NotNull(response.Headers.RetryAfter);
            Assert.Equal("queue_full", (string?)(await Json(response))["error"]!["code"]);
        }
        // Nothing accepted was lost and nothing refused was handled: the handler saw exactly the accepted texts, once each.
        Assert.Equal(accepted.Select(a => a.Text).Order(), handler.Calls.Keys.Order());
        Assert.All(handler.Calls.Values, n => Assert.Equal(1, n));
    }

    [Fact]
    public async Task Web_chat_token_is_served_to_same_site_loopback_requests_only_and_works_as_a_bearer_token()
    {
        var (host, _) = await GatewayFixture.StartAsync();
        await using var _h = host;
        using var client = host.CreateClient();

        var page = await client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("webchat/app.js", await page.Content.ReadAsStringAsync());
        Assert.Contains("default-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single());

        var tokenResponse = await client.GetAsync("/webchat/token");
        Assert.Equal("application/json", tokenResponse.Content.Headers.ContentType!.MediaType);
        Assert.Equal("no-store", tokenResponse.Headers.CacheControl!.ToString());
        string token = (string)(await Json(tokenResponse))["token"]!;
        Assert.False(string.IsNullOrEmpty(token));
        using var withToken = host.CreateClient();
        withToken.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        Assert.Equal(HttpStatusCode.OK, (await withToken.GetAsync("/v1/models")).StatusCode);

        using var rebinding = new HttpRequestMessage(HttpMethod.Get, "/webchat/token");
        rebinding.Headers.Host = "evil.example";
        Assert.Equal(HttpStatusCode.Forbidden, (await client.SendAsync(rebinding)).StatusCode);

        using var crossSite = new HttpRequestMessage(HttpMethod.Get, "/webchat/token");
        crossSite.Headers.Add("Sec-Fetch-Site", "cross-site");
        Assert.Equal(HttpStatusCode.Forbidden, (await client.SendAsync(crossSite)).StatusCode);
    }

    [Fact]
    public async Task Web_chat_token_can_be_switched_off()
    {
        var (host, _) = await GatewayFixture.StartAsync(new Dictionary<string, string> { ["Gateway:LoopbackWebChatToken"] = "false" });
        await using var _h = host;
        using var client = host.CreateClient();
        var response = await client.GetAsync("/webchat/token");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("loopback_only", (string?)(await Json(response))["error"]!["code"]);
    }

    [Theory]
    [InlineData("Gateway:MaxFrameBytes", "10", "Gateway:MaxFrameBytes must be between 256 and 16777216")]
    [InlineData("Gateway:HeartbeatTimeoutSeconds", "0", "Gateway:HeartbeatTimeoutSeconds must be between 1 and 600")]
    [InlineData("Gateway:Tokens:0", "short", "Gateway:Tokens:0 must be at least 16 characters")]
    public async Task Invalid_gateway_options_stop_the_start_with_a_message_naming_the_key(string key, string value, string expected)
    {
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => TestHost.StartAsync(new Dictionary<string, string> { [key] = value }));
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public async Task A_message_id_sent_twice_by_one_user_is_answered_once_and_refused_with_409()
    {
        var (host, handler) = await GatewayFixture.StartAsync();
        await using var _h = host;
        using var client = Authorized(host);
        var first = await client.PostAsJsonAsync("/v1/messages", new { user = "gina", text = "once please", id = "req-1" });
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var second = await client.PostAsJsonAsync("/v1/messages", new { user = "gina", text = "once please", id = "req-1" });
        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        Assert.Equal("duplicate_message", (string?)(await Json(second))["error"]!["code"]);
        Assert.Equal(1, handler.Calls["once please"]);
    }

    [Fact]
    public async Task An_unparsable_gateway_value_stops_the_start_with_one_line_naming_the_key()
    {
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => TestHost.StartAsync(new Dictionary<string, string> { ["Gateway:MaxConnections"] = "many" }));
        var lines = MoltBot.Hosting.StartupErrors.Describe(ex);
        Assert.Contains(lines, l => l.Contains("Gateway:MaxConnections"));
    }

    [Fact]
    public async Task History_falls_back_to_the_memory_modules_conversation_reader_when_the_gateway_holds_nothing()
    {
        var stored = new StoredMessage("m1", "http:old-talk", "http:ivy", "in", "from before the restart", 1000);
        var (host, _) = await GatewayFixture.StartAsync(configure: b => b.Services.AddSingleton<IConversationReader>(new FixedReader([stored])));
        await using var _h = host;
        using var client = Authorized(host);
        var messages = (await Json(await client.GetAsync("/v1/conversations/old-talk/messages")))["messages"]!.AsArray();
        Assert.Equal("from before the restart", (string?)Assert.Single(messages)!["text"]);

        // A conversation the gateway has seen since the start is answered from its own history.
        await client.PostAsJsonAsync("/v1/messages", new { user = "ivy", text = "fresh", conversation = "new-talk" });
        var fresh = (await Json(await client.GetAsync("/v1/conversations/new-talk/messages")))["messages"]!.AsArray();
        Assert.Equal(["fresh", "echo: fresh"], fresh.Select(m => (string)m!["text"]!));
    }

    private sealed class FixedReader(IReadOnlyList<StoredMessage> messages) : IConversationReader
    {
        public Task<IReadOnlyList<ConversationSummary>> ListAsync(int skip, int take, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<ConversationSummary>>([]);

        public Task<IReadOnlyList<StoredMessage>> MessagesAsync(string conversationKey, int take, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<StoredMessage>>(messages.Where(m => m.ConversationKey == conversationKey).Take(take).ToList());
    }
}
