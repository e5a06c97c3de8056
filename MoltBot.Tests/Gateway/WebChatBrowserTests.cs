using Microsoft.Playwright;
using MoltBot.Gateway.WebSockets;

namespace MoltBot.Tests.Gateway;

/// <summary>
/// The web chat page in a real browser: Debian's chromium (/usr/bin/chromium) driven by Playwright, which uses
/// that installed browser only (no browser download).
/// </summary>
public class WebChatBrowserTests
{
    private const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task Page_streams_a_reply_then_reconnects_and_resumes_after_the_server_drops_the_socket()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: run scripts/bootstrap.sh --with-test-deps (Debian package 'chromium').");
        var (host, handler) = await GatewayFixture.StartAsync();
        await using var _h = host;
        var registry = host.Services.GetRequiredService<SessionRegistry>();

        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        // Phone-width viewport, Chinese browser locale: the UI must follow it.
        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 390, Height = 760 },
            Locale = "zh-CN",
        });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(30_000);
        await page.GotoAsync(host.BaseAddress.ToString());

        var status = page.Locator("#status");
        await Assertions.Expect(status).ToHaveAttributeAsync("data-state", "connected");
        await Assertions.Expect(page.Locator("#send")).ToHaveTextAsync("发送");
        await Assertions.Expect(page.Locator("#token-form")).ToBeHiddenAsync(); // the loopback token was used, no prompt
        string sessionId = (await status.GetAttributeAsync("data-session"))!;

        // 1. A streamed reply, token by token.
        await page.Locator("#input").FillAsync("hello there");
        await page.Locator("#input").PressAsync("Enter");
        var firstReply = page.Locator(".msg.bot").Nth(0);
        await Assertions.Expect(firstReply).ToHaveAttributeAsync("data-final", "true");
        await Assertions.Expect(firstReply).ToHaveTextAsync("echo: hello there");
        Assert.Equal("3", await firstReply.GetAttributeAsync("data-deltas")); // "echo:", " hello", " there"
        await Assertions.Expect(page.Locator("#send")).ToHaveTextAsync("Send"); // English text: the UI follows the user

        // 2. A reply that is produced while the server has dropped the socket.
        await page.Locator("#input").FillAsync("hold");
        await page.Locator("#input").PressAsync("Enter");
        await Assertions.Expect(page.Locator(".msg.user").Nth(1)).ToHaveAttributeAsync("data-acked", "true");
        Assert.Equal(1, registry.AbortAll());
        handler.Release();

        await Assertions.Expect(status).ToHaveAttributeAsync("data-reconnects", "1");
        await Assertions.Expect(status).ToHaveAttributeAsync("data-state", "connected");
        Assert.Equal(sessionId, await status.GetAttributeAsync("data-session"));
        var heldReply = page.Locator(".msg.bot").Nth(1);
        await Assertions.Expect(heldReply).ToHaveTextAsync("echo: hold");
        await Assertions.Expect(heldReply).ToHaveAttributeAsync("data-final", "true");

        // 3. The conversation continues on the resumed session.
        await page.Locator("#input").FillAsync("still here");
        await page.Locator("#input").PressAsync("Enter");
        await Assertions.Expect(page.Locator(".msg.bot").Nth(2)).ToHaveTextAsync("echo: still here");
        await Assertions.Expect(page.Locator(".msg.bot")).ToHaveCountAsync(3);
        Assert.Equal(1, handler.Calls["hold"]);

        string dir = Path.Combine(RepoRoot.Path, "test-artifacts");
        Directory.CreateDirectory(dir);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(dir, "webchat-reconnect.png"), FullPage = true });
    }

    [Fact]
    public async Task Without_the_loopback_token_the_page_asks_for_a_configured_token_and_then_chats()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: run scripts/bootstrap.sh --with-test-deps (Debian package 'chromium').");
        var (host, _) = await GatewayFixture.StartAsync(new Dictionary<string, string> { ["Gateway:LoopbackWebChatToken"] = "false" });
        await using var _h = host;
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { Locale = "en-US" });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(30_000);
        await page.GotoAsync(host.BaseAddress.ToString());

        await Assertions.Expect(page.Locator("#token-form")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#status")).ToHaveAttributeAsync("data-state", "offline");
        await page.Locator("#token-input").FillAsync(GatewayFixture.Token);
        await page.Locator("#token-save").ClickAsync();
        await Assertions.Expect(page.Locator("#status")).ToHaveAttributeAsync("data-state", "connected");
        await page.Locator("#input").FillAsync("with a real token");
        await page.Locator("#input").PressAsync("Enter");
        await Assertions.Expect(page.Locator(".msg.bot").Nth(0)).ToHaveTextAsync("echo: with a real token");
    }
}
