package dev.switchboard.bench;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * One simulated browser: a WebSocket to a node, speaking protocol v1 (join, then JSON text
 * frames). Everything happens on the event loop that connected it; the scenario that owns it
 * gets every frame after {@code welcome} and the close through its {@link Listener}.
 */
final class BenchPeer {

  /** What a scenario hears from its peers, on the peer's event loop. */
  interface Listener {
    void frame(BenchPeer peer, JsonObject message, long arrivedNanos);

    void closed(BenchPeer peer, short code);
  }

  private final WebSocket ws;
  private final String id;
  private final Listener listener;
  private Promise<JsonObject> welcome;

  private BenchPeer(WebSocket ws, String id, Listener listener) {
    this.ws = ws;
    this.id = id;
    this.listener = listener;
    ws.textMessageHandler(this::text);
    ws.closeHandler(v -> {
      Promise<JsonObject> w = welcome;
      if (w != null) {
        w.tryFail(new Refused("close-" + ws.closeStatusCode()));
      }
      listener.closed(this, ws.closeStatusCode() == null ? -1 : ws.closeStatusCode());
    });
  }

  /** A join refused by the node or a connection refused by HTTP: {@code code} names why ({@code room-full}, {@code http-429}). */
  static final class Refused extends RuntimeException {
    Refused(String code) {
      super(code, null, false, false);
    }

    String code() {
      return getMessage();
    }
  }

  /** Opens a socket to {@code url} ({@code ws://host:port/ws}); an HTTP refusal fails with {@link Refused}. */
  static Future<BenchPeer> connect(WebSocketClient client, String url, String id, Listener listener) {
    return client.connect(new WebSocketConnectOptions().setAbsoluteURI(url))
        .recover(e -> Future.failedFuture(e instanceof UpgradeRejectedException r
            ? new Refused("http-" + r.getStatus()) : new Refused("connect-failed")))
        .map(ws -> new BenchPeer(ws, id, listener));
  }

  /** Sends {@code join}; completes with {@code welcome}, or fails with the {@code error} code. */
  Future<JsonObject> join(String room) {
    welcome = Promise.promise();
    ws.writeTextMessage(new JsonObject().put("type", "join").put("room", room).put("peer", id)
        .put("meta", new JsonObject().put("name", id)).encode());
    return welcome.future();
  }

  String id() {
    return id;
  }

  void send(String frame) {
    ws.writeTextMessage(frame);
  }

  /** True while the socket's write queue is over its high-water mark: this client is behind. */
  boolean backlogged() {
    return ws.writeQueueFull();
  }

  Future<Void> close() {
    return ws.close();
  }

  /**
   * Hangs up as a client that is done does: {@code leave}, then the close. A socket closed
   * without {@code leave} would keep its peer in the room for the nodes' resume window, and the
   * next run would measure nodes still holding this one's peers.
   */
  Future<Void> hangUp() {
    if (!ws.isClosed()) {
      ws.writeTextMessage("{\"type\":\"leave\"}");
    }
    return ws.close();
  }

  private void text(String text) {
    long now = System.nanoTime();
    JsonObject m;
    try {
      m = new JsonObject(text);
    } catch (RuntimeException e) {
      listener.frame(this, new JsonObject().put("type", "error").put("code", "unparseable-frame"), now);
      return;
    }
    Promise<JsonObject> w = welcome;
    if (w != null) {
      if ("welcome".equals(m.getString("type"))) {
        welcome = null;
        w.complete(m);
        return;
      }
      if ("error".equals(m.getString("type"))) {
        welcome = null;
        w.fail(new Refused(m.getString("code", "error")));
        return;
      }
    }
    listener.frame(this, m, now);
  }

  /** Whether {@code welcome.peers} names {@code peer}. */
  static boolean lists(JsonObject welcome, String peer) {
    JsonArray peers = welcome.getJsonArray("peers");
    for (int i = 0; peers != null && i < peers.size(); i++) {
      if (peer.equals(peers.getJsonObject(i).getString("peer"))) {
        return true;
      }
    }
    return false;
  }
}
