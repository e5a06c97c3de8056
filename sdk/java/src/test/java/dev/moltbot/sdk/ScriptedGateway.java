package dev.moltbot.sdk;

import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * A minimal WebSocket server (RFC 6455 handshake and unfragmented text frames, enough for java.net.http) that
 * speaks docs/protocol.md's wire format from a script: edge cases the real dialog manager cannot produce on demand.
 */
final class ScriptedGateway implements AutoCloseable {
    interface Script {
        void run(ScriptedGateway gateway, Conn conn, int connectionNumber) throws Exception;
    }

    private static final String HELLO = "{\"type\":\"hello\",\"protocol\":1,\"heartbeatIntervalMs\":15000,\"heartbeatTimeoutMs\":5000,"
            + "\"limits\":{\"maxFrameBytes\":65536,\"maxTextLength\":8000}}";

    final List<Map<String, Object>> auths = Collections.synchronizedList(new ArrayList<>());
    final List<Map<String, Object>> sends = Collections.synchronizedList(new ArrayList<>());
    private final ServerSocket server;
    private final Script script;
    private final String hello;
    final URI uri;

    ScriptedGateway(Script script) throws IOException {
        this(HELLO, script);
    }

    ScriptedGateway(String hello, Script script) throws IOException {
        this.hello = hello;
        this.script = script;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.uri = URI.create("ws://127.0.0.1:" + server.getLocalPort() + "/ws");
        Thread acceptor = new Thread(this::acceptLoop, "scripted-gateway");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                Thread t = new Thread(() -> serve(socket), "scripted-gateway-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void serve(Socket socket) {
        try (socket) {
            Conn conn = new Conn(socket);
            conn.handshake();
            conn.send(hello);
            Map<String, Object> auth = Json.parseObject(conn.read());
            int n;
            synchronized (auths) {
                auths.add(auth);
                n = auths.size();
            }
            script.run(this, conn, n);
        } catch (Exception connectionEnded) {
            // The client went away or the script dropped the connection on purpose.
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
    }

    final class Conn {
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;

        Conn(Socket socket) throws IOException {
            this.socket = socket;
            this.in = socket.getInputStream();
            this.out = socket.getOutputStream();
        }

        void handshake() throws Exception {
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.ISO_8859_1), 1);
            String key = null;
            for (String line; (line = reader.readLine()) != null && !line.isEmpty(); ) {
                if (line.toLowerCase().startsWith("sec-websocket-key:")) key = line.substring(18).trim();
            }
            byte[] sha1 = MessageDigest.getInstance("SHA-1")
                    .digest((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.ISO_8859_1));
            out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "
                    + Base64.getEncoder().encodeToString(sha1) + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        }

        synchronized void send(String text) throws IOException {
            byte[] payload = text.getBytes(StandardCharsets.UTF_8);
            out.write(0x81);
            if (payload.length < 126) {
                out.write(payload.length);
            } else {
                out.write(126);
                out.write(payload.length >> 8);
                out.write(payload.length & 0xFF);
            }
            out.write(payload);
            out.flush();
        }

        void send(Map<String, Object> frame) throws IOException {
            send(Json.write(frame));
        }

        /** The next text frame from the client (pings and pongs skipped). */
        String read() throws IOException {
            DataInputStream data = new DataInputStream(in);
            while (true) {
                int b0 = data.readUnsignedByte();
                int b1 = data.readUnsignedByte();
                long length = b1 & 0x7F;
                if (length == 126) length = data.readUnsignedShort();
                else if (length == 127) length = data.readLong();
                byte[] mask = new byte[4];
                if ((b1 & 0x80) != 0) data.readFully(mask);
                byte[] payload = new byte[(int) length];
                data.readFully(payload);
                for (int k = 0; k < payload.length; k++) payload[k] ^= mask[k % 4];
                int opcode = b0 & 0x0F;
                if (opcode == 8) throw new EOFException("client closed");
                if (opcode == 1) return new String(payload, StandardCharsets.UTF_8);
            }
        }

        Map<String, Object> nextSend() throws IOException {
            Map<String, Object> f = Json.parseObject(read());
            sends.add(f);
            return f;
        }

        /** No close frame, and a TCP reset: a network failure. */
        void drop() throws IOException {
            socket.setSoLinger(true, 0);
            socket.close();
        }
    }
}
