package dev.switchboard.media;

import dev.switchboard.config.Config;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's link to one Janus server: one WebSocket (subprotocol {@code janus-protocol}) and
 * one Janus session on it, kept alive with {@code keepalive}s, and the plugin handles attached to
 * it ({@link JanusHandle}). Each request carries a transaction and gets exactly one outcome: its
 * answer, a {@link JanusError}, or {@link JanusError#NO_ANSWER} after the request timeout.
 * Events that answer no request (a publisher joined, Janus hung up a PeerConnection) go to the
 * handle named by their {@code sender}.
 *
 * <p>Janus answers in three shapes (docs/media.md): a synchronous plugin request with
 * {@code success} (its {@code plugindata} may hold the plugin's error), an asynchronous one with
 * {@code ack} and then an {@code event} with the same transaction (the event may come first), and
 * a core failure with {@code error}. Everything here runs on the link's own event loop; the
 * public methods may be called from any thread, and their futures complete on that loop.
 * Bounded: {@link #MAX_PENDING} requests in flight, {@link #MAX_HANDLES} handles.
 */
public final class JanusLink {

  private static final Logger log = LoggerFactory.getLogger(JanusLink.class);

  /** Requests awaiting their answer at once; past it, a request fails at once with {@link JanusError#BUSY}. */
  static final int MAX_PENDING = 4096;
  /** Handles on one link: one per peer publishing or subscribing, and one for the node's room requests. */
  static final int MAX_HANDLES = 50_000;
  /** The largest message Janus sends: an SDP of a big meeting's subscription, or a room listing. */
  static final int MAX_MESSAGE_BYTES = 1024 * 1024;

  /** What completes a request. */
  enum Answer {
    /** {@code success} or {@code error}: a core request, or a synchronous plugin request. */
    SYNC,
    /** The {@code event} with the transaction (or a {@code success}, or an {@code error}); the {@code ack} only says it is under way. */
    ASYNC,
    /** {@code ack} (or {@code success}, or {@code error}): {@code keepalive}, {@code trickle}. */
    ACK
  }

  /** What the link's owner hears of it. */
  public interface Listener {
    /** The link went down (the socket closed, the session expired, a keepalive failed); every handle on it is gone. */
    void down(String why);
  }

  private record Pending(Answer answer, Promise<JsonObject> promise, long timer) {
  }

  private final Vertx vertx;
  private final Context context;
  private final WebSocketClient client;
  private final Config.Media settings;
  private final Listener listener;
  private final Map<String, Pending> pending = new HashMap<>();
  private final Map<Long, JanusHandle> handles = new HashMap<>();
  private WebSocket socket;
  private long session;
  private long keepaliveTimer = -1;
  private long nextTransaction;

  public JanusLink(Vertx vertx, Config.Media settings, Listener listener) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.settings = settings;
    this.listener = listener;
    this.client = vertx.createWebSocketClient(new WebSocketClientOptions()
        .setMaxMessageSize(MAX_MESSAGE_BYTES)
        .setConnectTimeout((int) settings.requestTimeout().toMillis()));
  }

  /** Whether the link has a live session. */
  public boolean isUp() {
    return session != 0;
  }

  /**
   * Opens the WebSocket and creates the Janus session (with the API secret, if any): fails with
   * a {@link JanusError} naming what went wrong (an unreachable Janus, a wrong secret).
   */
  public Future<Void> open() {
    Promise<Void> opened = Promise.promise();
    context.runOnContext(v -> {
      if (socket != null) {
        opened.fail(new IllegalStateException("the link is open already"));
        return;
      }
      WebSocketConnectOptions options = new WebSocketConnectOptions().setAbsoluteURI(settings.janusUrl())
          .addSubProtocol("janus-protocol").setTimeout(settings.requestTimeout().toMillis());
      client.connect(options)
          .recover(err -> Future.failedFuture(new JanusError(JanusError.LINK_DOWN,
              "cannot reach Janus at " + settings.janusUrl() + ": " + err.getMessage(), false)))
          .compose(ws -> {
            socket = ws;
            ws.textMessageHandler(this::received);
            ws.closeHandler(closed -> lost("the WebSocket to Janus closed"));
            ws.exceptionHandler(err -> log.atDebug().addKeyValue("error", String.valueOf(err.getMessage()))
                .log("Janus WebSocket error"));
            return send(new JsonObject().put("janus", "create"), Answer.SYNC);
          })
          .onSuccess(created -> {
            session = created.getJsonObject("data").getLong("id");
            keepaliveTimer = vertx.setPeriodic(settings.keepalive().toMillis(), t -> keepalive());
            log.atInfo().addKeyValue("janus", settings.janusUrl()).log("Janus session open");
            opened.complete();
          })
          .onFailure(err -> {
            close();
            opened.fail(err);
          });
    });
    return opened.future();
  }

  /**
   * Attaches a handle of {@code plugin}, named {@code opaqueId} in Janus (its admin API and logs
   * show it): what names this node, the room and the peer.
   */
  public Future<JanusHandle> attach(String plugin, String opaqueId, JanusHandle.Listener events) {
    Promise<JanusHandle> attached = Promise.promise();
    context.runOnContext(v -> {
      if (handles.size() >= MAX_HANDLES) {
        attached.fail(new JanusError(JanusError.BUSY, "more than " + MAX_HANDLES + " handles on one link", false));
        return;
      }
      send(new JsonObject().put("janus", "attach").put("plugin", plugin).put("opaque_id", opaqueId), Answer.SYNC)
          .map(answer -> {
            JanusHandle handle = new JanusHandle(this, answer.getJsonObject("data").getLong("id"), opaqueId, events);
            handles.put(handle.id(), handle);
            return handle;
          })
          .onComplete(attached);
    });
    return attached.future();
  }

  /** Closes the link: the session is destroyed (Janus drops its handles with it) and the socket closed. */
  public Future<Void> close() {
    Promise<Void> closed = Promise.promise();
    context.runOnContext(v -> {
      if (socket == null) {
        closed.complete();
        return;
      }
      Future<JsonObject> destroyed = session == 0 ? Future.succeededFuture()
          : send(new JsonObject().put("janus", "destroy"), Answer.SYNC);
      destroyed.onComplete(ar -> {
        lost("closed"); // closes the socket
        closed.complete();
      });
    });
    return closed.future();
  }

  /** Sends {@code request} for {@code handle} (0 for the session itself), on any thread. */
  Future<JsonObject> request(long handle, JsonObject request, Answer answer) {
    Promise<JsonObject> done = Promise.promise();
    context.runOnContext(v -> {
      if (handle != 0) {
        request.put("handle_id", handle);
      }
      send(request, answer).onComplete(done);
    });
    return done.future();
  }

  /** Runs {@code task} on the link's event loop, where its handles' events come. */
  void run(Runnable task) {
    context.runOnContext(v -> task.run());
  }

  /** The handle is detached: its events no longer come. */
  void forget(long handle) {
    context.runOnContext(v -> handles.remove(handle));
  }

  /** On the link's loop: stamps the transaction, the session and the secret, and sends. */
  private Future<JsonObject> send(JsonObject request, Answer answer) {
    if (socket == null) {
      return Future.failedFuture(new JanusError(JanusError.LINK_DOWN, "the link to Janus is down", false));
    }
    if (pending.size() >= MAX_PENDING) {
      return Future.failedFuture(new JanusError(JanusError.BUSY, MAX_PENDING + " Janus requests in flight", false));
    }
    String transaction = Long.toString(++nextTransaction, 36);
    request.put("transaction", transaction);
    if (session != 0) {
      request.put("session_id", session);
    }
    if (!settings.apiSecret().isEmpty()) {
      request.put("apisecret", settings.apiSecret());
    }
    Promise<JsonObject> promise = Promise.promise();
    long timer = vertx.setTimer(settings.requestTimeout().toMillis(), t -> {
      if (pending.remove(transaction) != null) {
        promise.tryFail(new JanusError(JanusError.NO_ANSWER, "no answer to " + request.getString("janus")
            + " within " + settings.requestTimeout().toMillis() + " ms", false));
      }
    });
    pending.put(transaction, new Pending(answer, promise, timer));
    socket.writeTextMessage(request.encode()).onFailure(err -> settle(transaction,
        new JanusError(JanusError.LINK_DOWN, "could not write to Janus: " + err.getMessage(), false), null));
    return promise.future();
  }

  private void received(String text) {
    JsonObject message;
    try {
      message = new JsonObject(text);
    } catch (DecodeException notJson) {
      log.atWarn().log("Janus sent a message that is not JSON; ignored");
      return;
    }
    String kind = message.getString("janus", "");
    String transaction = message.getString("transaction");
    Pending p = transaction == null ? null : pending.get(transaction);
    if (p != null && completes(p.answer(), kind)) {
      if ("error".equals(kind)) {
        JsonObject error = message.getJsonObject("error", new JsonObject());
        settle(transaction, new JanusError(error.getInteger("code", 0), error.getString("reason", ""), false), null);
      } else {
        settle(transaction, null, message);
      }
      return;
    }
    if ("timeout".equals(kind)) {
      lost("the Janus session timed out");
      return;
    }
    // Janus's own events carry no transaction; one that does answers a request given up already.
    if (transaction == null && message.containsKey("sender")) {
      JanusHandle handle = handles.get(message.getLong("sender", 0L));
      if (handle != null && "detached".equals(kind)) {
        // Not a detach of ours (JanusHandle.detach forgets the handle before asking): Janus let
        // the handle go by itself, which VideoRoom does only with the session, as it times out.
        // It sends each handle's detached from that handle's thread and the timeout from its
        // watchdog, in either order; on a loaded machine detached often comes first. The handle
        // hears it as it would from the timeout, or it would not hear it at all.
        handles.remove(handle.id());
        handle.linkLost();
      } else if (handle != null) {
        handle.event(message);
      }
    }
  }

  private static boolean completes(Answer answer, String kind) {
    return switch (kind) {
      case "success", "error" -> true;
      case "event" -> answer == Answer.ASYNC;
      case "ack" -> answer == Answer.ACK;
      default -> false;
    };
  }

  private void settle(String transaction, JanusError error, JsonObject answer) {
    Pending p = pending.remove(transaction);
    if (p == null) {
      return;
    }
    vertx.cancelTimer(p.timer());
    if (error != null) {
      p.promise().tryFail(error);
    } else {
      p.promise().tryComplete(answer);
    }
  }

  private void keepalive() {
    send(new JsonObject().put("janus", "keepalive"), Answer.ACK).onFailure(err -> {
      if (err instanceof JanusError e && e.code() != JanusError.NO_ANSWER && e.code() != JanusError.BUSY) {
        lost("keepalive refused: " + e.getMessage());
      }
    });
  }

  /** The session is gone: every request in flight fails, every handle hears it, the owner is told. */
  private void lost(String why) {
    if (socket == null) {
      return;
    }
    boolean wasUp = session != 0;
    WebSocket ws = socket;
    socket = null;
    session = 0;
    if (keepaliveTimer >= 0) {
      vertx.cancelTimer(keepaliveTimer);
      keepaliveTimer = -1;
    }
    List<String> inFlight = new ArrayList<>(pending.keySet());
    inFlight.forEach(t -> settle(t, new JanusError(JanusError.LINK_DOWN, why, false), null));
    List<JanusHandle> gone = new ArrayList<>(handles.values());
    handles.clear();
    gone.forEach(JanusHandle::linkLost);
    ws.close();
    if (wasUp && !"closed".equals(why)) {
      log.atWarn().addKeyValue("janus", settings.janusUrl()).addKeyValue("handles", gone.size()).log(why);
      listener.down(why);
    }
  }
}
