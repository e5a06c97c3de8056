package dev.moltbot.sdk;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** A real MoltBot process (the built moltbot.dll) on a free loopback port, with its own temp data directory. */
final class MoltBotServer implements AutoCloseable {
    static final String TOKEN = "sdk-test-token-0123456789abcdef";
    private static final Pattern LISTENING = Pattern.compile("Now listening on: (http://127\\.0\\.0\\.1:\\d+)");

    private final Process process;
    private final Path root;
    final URI wsUri;
    final URI httpUri;

    private MoltBotServer(Process process, Path root, URI httpUri) {
        this.process = process;
        this.root = root;
        this.httpUri = httpUri;
        this.wsUri = httpUri == null ? null : URI.create(httpUri.toString().replace("http://", "ws://") + "/ws");
    }

    /** The conversation's history through the HTTP API (independent of the WebSocket under test). */
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> history(String conversation) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(httpUri + "/v1/conversations/" + conversation + "/messages?platform=web&limit=200"))
                .header("Authorization", "Bearer " + TOKEN).build();
        String body = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString()).body();
        return (List<Map<String, Object>>) Json.parseObject(body).get("messages");
    }

    static MoltBotServer start() throws IOException, InterruptedException {
        String repoEnv = System.getenv("MOLTBOT_REPO");
        Path repo = repoEnv != null && !repoEnv.isEmpty() && !repoEnv.startsWith("${")
                ? Path.of(repoEnv) : Path.of("").toAbsolutePath().getParent().getParent();
        String dllEnv = System.getenv("MOLTBOT_DLL");
        Path dll = dllEnv != null && !dllEnv.isEmpty() ? Path.of(dllEnv) : repo.resolve("MoltBot/bin/Debug/net10.0/moltbot.dll");
        if (!Files.exists(dll)) throw new IllegalStateException(dll + " not found: build the host first (dotnet build MoltBot)");
        Path root = Files.createTempDirectory("moltbot-sdk-java-");
        Path log = root.resolve("moltbot.log");
        List<String> args = new ArrayList<>(List.of("dotnet", dll.toString(), "--urls", "http://127.0.0.1:0",
                "--Storage:DataDirectory", root.resolve("data").toString(), "--Models:Directory", repo.resolve("models").toString(),
                "--Log:Console", "human", "--Gateway:Tokens:0", TOKEN,
                "--Gateway:MaxTextLength", "2000", "--Gateway:MaxFrameBytes", "16384",
                // Server pings every second and drops a client that does not answer within 2 s.
                "--Gateway:HeartbeatIntervalSeconds", "1", "--Gateway:HeartbeatTimeoutSeconds", "2"));
        // The host logs to stderr; a file (not a pipe) cannot fill up and block it.
        Process process = new ProcessBuilder(args).directory(root.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < deadline && process.isAlive()) {
            Matcher m = LISTENING.matcher(Files.readString(log, StandardCharsets.UTF_8));
            if (m.find()) return new MoltBotServer(process, root, URI.create(m.group(1)));
            Thread.sleep(200);
        }
        String text = Files.readString(log, StandardCharsets.UTF_8);
        new MoltBotServer(process, root, null).close();
        throw new IllegalStateException("MoltBot did not start:\n" + text.substring(Math.max(0, text.length() - 4000)));
    }

    @Override
    public void close() throws IOException, InterruptedException {
        process.destroy(); // SIGTERM: the host drains and exits
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor();
        }
        try (Stream<Path> files = Files.walk(root)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
