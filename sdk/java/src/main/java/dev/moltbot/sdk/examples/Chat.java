package dev.moltbot.sdk.examples;

import dev.moltbot.sdk.ClientOptions;
import dev.moltbot.sdk.MoltBotClient;
import dev.moltbot.sdk.Reply;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Flow;

/** Command-line chat with MoltBot: MOLTBOT_TOKEN=... [MOLTBOT_URL=ws://HOST:PORT/ws] java -cp target/classes dev.moltbot.sdk.examples.Chat */
public final class Chat {
    public static void main(String[] args) throws Exception {
        URI url = URI.create(System.getenv().getOrDefault("MOLTBOT_URL", "ws://127.0.0.1:8080/ws"));
        try (MoltBotClient client = MoltBotClient.connect(url, ClientOptions.of(System.getenv("MOLTBOT_TOKEN"))).join()) {
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
            for (String line; (line = in.readLine()) != null; ) {
                if (line.isBlank()) continue;
                Reply reply = client.send(line.strip());
                reply.deltas().subscribe(new Flow.Subscriber<String>() { // streamed as the reply is produced
                    public void onSubscribe(Flow.Subscription s) { s.request(Long.MAX_VALUE); }
                    public void onNext(String delta) { System.out.print(delta); System.out.flush(); }
                    public void onError(Throwable t) { }
                    public void onComplete() { }
                });
                try {
                    String text = reply.finalReply().join().text();
                    System.out.println(reply.deltasSoFar().isEmpty() ? text : "");
                } catch (CompletionException e) {
                    System.out.println("moltbot: " + e.getCause().getMessage()); // e.g. text_too_long: the chat goes on
                }
            }
        } catch (CompletionException e) {
            System.err.println("moltbot: " + e.getCause().getMessage());
            System.exit(1);
        }
    }
}
