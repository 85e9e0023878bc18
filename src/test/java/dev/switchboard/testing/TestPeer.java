package dev.switchboard.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.internal.http.WebSocketInternal;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A real WebSocket client for tests, used from the test thread: it records every frame the
 * server sends, in order, and how the socket closed.
 */
public final class TestPeer implements AutoCloseable {

  public static final Duration WAIT = Duration.ofSeconds(10);

  private final WebSocket ws;
  private final LinkedBlockingQueue<JsonObject> inbox = new LinkedBlockingQueue<>(100_000);
  private final CompletableFuture<Short> closed = new CompletableFuture<>();

  /** Messages received since the last welcome ({@code pong} aside), counted as they arrive: what a resume reports. */
  private final AtomicLong received = new AtomicLong();
  /** The last welcome received, whenever it came. */
  private volatile JsonObject lastWelcome;

  private TestPeer(WebSocket ws) {
    this.ws = ws;
    ws.textMessageHandler(text -> {
      JsonObject m = new JsonObject(text);
      if ("welcome".equals(m.getString("type"))) {
        lastWelcome = m;
        received.set(0);
      } else if (!"pong".equals(m.getString("type"))) {
        received.incrementAndGet();
      }
      inbox.add(m);
    });
    ws.closeHandler(v -> closed.complete(ws.closeStatusCode()));
  }

  /** A client able to send frames larger than the server accepts (to test the limit). */
  public static WebSocketClient client(Vertx vertx) {
    return vertx.createWebSocketClient(new WebSocketClientOptions()
        .setMaxFrameSize(1 << 20).setMaxMessageSize(1 << 20).setConnectTimeout(5000));
  }

  public static TestPeer connect(WebSocketClient client, int port) {
    return new TestPeer(client.connect(port, "127.0.0.1", "/ws").await());
  }

  /** Connects and joins; returns once {@code welcome} arrived. */
  public static TestPeer join(WebSocketClient client, int port, String room, String peer) {
    return join(client, port, room, peer, null);
  }

  /** Connects and joins as {@code role} (none in the join if null); returns once {@code welcome} arrived. */
  public static TestPeer join(WebSocketClient client, int port, String room, String peer, String role) {
    TestPeer p = connect(client, port);
    JsonObject join = new JsonObject().put("type", "join").put("room", room).put("peer", peer)
        .put("meta", new JsonObject().put("name", peer));
    p.send(role == null ? join : join.put("role", role));
    p.welcome = p.expect("welcome");
    return p;
  }

  /** The {@code welcome} this peer got, when joined through {@link #join}. */
  public JsonObject welcome;

  public void send(JsonObject message) {
    ws.writeTextMessage(message.encode()).await();
  }

  /** Stops reading from the socket, like a frozen or overwhelmed client: pings go unanswered, data piles up. */
  public void stopReading() {
    ws.pause();
  }

  /** Reads again after {@link #stopReading}, so the client sees what happened meanwhile (and can close). */
  public void resumeReading() {
    ws.resume();
  }

  public void sendRaw(String text) {
    ws.writeTextMessage(text).await();
  }

  public void sendBinary(Buffer data) {
    ws.writeBinaryMessage(data).await();
  }

  /** Writes one raw frame as it is (fragments, text frames of arbitrary bytes, ...). */
  public void sendFrame(WebSocketFrame frame) {
    ws.writeFrame(frame).await();
  }

  /** The next message, failing the test if none comes in time. */
  public JsonObject next() {
    return next(WAIT);
  }

  public JsonObject next(Duration timeout) {
    try {
      JsonObject m = inbox.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
      assertNotNull(m, "no message within " + timeout.toMillis() + "ms");
      return m;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** The next message, which must be of {@code type}. */
  public JsonObject expect(String type) {
    JsonObject m = next();
    assertEquals(type, m.getString("type"), () -> "expected " + type + " but got " + m.encode());
    return m;
  }

  /**
   * The next message of {@code type}, past the {@code peer-joined} and {@code peer-left} that
   * come meanwhile (other peers joining and leaving are not ordered with what is awaited).
   */
  public JsonObject expectPast(String type) {
    JsonObject m = next();
    while (java.util.List.of("peer-joined", "peer-left").contains(m.getString("type"))
        && !type.equals(m.getString("type"))) {
      m = next();
    }
    assertEquals(type, m.getString("type"), m.encode());
    return m;
  }

  /** Every message that has arrived and was not read yet, without waiting. */
  public java.util.List<JsonObject> drain() {
    java.util.List<JsonObject> all = new java.util.ArrayList<>();
    inbox.drainTo(all);
    return all;
  }

  /** Asserts that nothing arrives for {@code ms}. */
  public void expectNothing(long ms) {
    try {
      JsonObject m = inbox.poll(ms, TimeUnit.MILLISECONDS);
      assertNull(m, () -> "expected nothing but got " + m.encode());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Waits for the server to close the socket and returns the close code. */
  public short awaitClose() {
    try {
      return closed.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new AssertionError("socket was not closed within " + WAIT.toMillis() + "ms", e);
    }
  }

  public boolean isClosed() {
    return closed.isDone();
  }

  /**
   * Cuts the TCP connection under the socket, with no close handshake, as a network drop or a
   * killed browser does: whatever the server wrote and this side had not read is lost.
   */
  public void drop() {
    ((WebSocketInternal) ws).channelHandlerContext().close();
    awaitClose();
  }

  /**
   * A new socket on {@code port} that resumes this peer's session: {@code join} with its last
   * welcome's token and how many messages this socket received after it. Returns at once; the
   * answer (a {@code welcome}, or an error and a close) is the new peer's first message.
   */
  public TestPeer resumeOn(WebSocketClient client, int port) {
    JsonObject w = lastWelcome;
    TestPeer p = connect(client, port);
    p.send(new JsonObject().put("type", "join").put("room", w.getString("room")).put("peer", w.getString("peer"))
        .put("resume", w.getString("resume")).put("received", received.get()));
    return p;
  }

  /** Closes the socket without sending {@code leave}, as a browser tab that goes away does. */
  public void disconnect() {
    ws.close().await();
  }

  @Override
  public void close() {
    if (!closed.isDone()) {
      ws.close().await();
    }
  }
}
