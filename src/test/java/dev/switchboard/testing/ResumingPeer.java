package dev.switchboard.testing;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * A client that does what the protocol asks of one whose socket drops or whose node drains: it
 * counts the frames it gets since each welcome ({@code pong} aside), keeps what it sent since,
 * reconnects through a "load balancer" (the next port that takes it: a draining node refuses
 * upgrades) with its resume token and count, and sends again what the resumed welcome says the
 * node did not get. Meanwhile it sends numbered messages, each with an id, round robin to the
 * other peers of its room, and records what it gets, so a test can tell lost, repeated and
 * reordered messages and every answer. After a resume whose welcome says its node died
 * ({@code nodeLost}) it sends nothing again, and counts each message still awaiting its answer
 * as failed, as the protocol says. Runs on a context of its own; read the results after
 * {@link #stop}. Peers that join after it are fine; a peer that joins again is not, and one that
 * leaves shows in {@link #departures} (and the errors for what is sent to it after, in
 * {@link #errors}).
 */
public final class ResumingPeer {

  private final WebSocketClient client;
  private final Context context;
  private final Supplier<List<Integer>> ports;
  private final String room;
  private final String peer;
  private final List<String> others;
  private WebSocket ws;
  private String token;
  private long received;
  private final List<String> sentSinceWelcome = new ArrayList<>();
  private boolean joined;
  private boolean stopped;
  private int portTurn;
  private int target;
  private long sendTimer = -1;
  /** Per other peer: the last number sent to it. */
  final Map<String, Long> sent = new HashMap<>();
  /** Per sender: the numbers received from it, in order. */
  final Map<String, List<Long>> got = new HashMap<>();
  final Set<String> acks = new HashSet<>();
  /** Per message id: the error code that answered it ("node-lost": its node died before it answered). */
  final Map<String, String> errors = new HashMap<>();
  /** Ids sent and not answered yet. */
  private final Set<String> unanswered = new HashSet<>();
  /** Per message id: when it was sent (ms). */
  final Map<String, Long> sentAt = new HashMap<>();
  /** The peer-left frames seen. */
  final List<String> departures = new ArrayList<>();
  /** When each resumed welcome arrived (ms since the epoch). */
  private final List<Long> resumedAt = new ArrayList<>();
  /** The peers this client was told are in the room (its first welcome, then peer-joined). */
  private final Set<String> known = new HashSet<>();
  /** Everything that should never happen: a late peer-joined, an error without an id, a second answer, a fresh welcome. */
  public final List<String> anomalies = new CopyOnWriteArrayList<>();
  private int welcomes;
  private int resumes;
  private int reconnects;

  public ResumingPeer(Vertx vertx, WebSocketClient client, Supplier<List<Integer>> ports, String room, String peer,
                      List<String> others) {
    this.client = client;
    this.context = vertx.getOrCreateContext();
    this.ports = ports;
    this.room = room;
    this.peer = peer;
    this.others = others;
    this.portTurn = Math.abs(peer.hashCode());
  }

  public String peer() {
    return peer;
  }

  /** Connects to {@code port} and joins. */
  public void start(int port) {
    context.runOnContext(v -> connect(port));
  }

  /** Sends one message every {@code everyMs} while joined (call once every peer of the room is in). */
  public void startSending(long everyMs) {
    context.runOnContext(v -> sendTimer = context.owner().setPeriodic(everyMs, t -> sendNext()));
  }

  /** Stops sending; the socket stays, so what is on its way still arrives. */
  public void stopSending() {
    InstanceState.await(context, () -> {
      context.owner().cancelTimer(sendTimer);
      return null;
    });
  }

  /** Reconnects no more, and says nothing: a client that never comes back (its socket died with its node). */
  public void abandon() {
    InstanceState.await(context, () -> {
      stopped = true;
      context.owner().cancelTimer(sendTimer);
      return null;
    });
  }

  /** The answers that were errors, by message id. */
  public Map<String, String> errors() {
    return InstanceState.await(context, () -> Map.copyOf(errors));
  }

  /** When each resumed welcome arrived, in ms since the epoch. */
  public List<Long> resumedAt() {
    return InstanceState.await(context, () -> List.copyOf(resumedAt));
  }

  /** The peer-left frames this peer saw. */
  public List<String> departures() {
    return InstanceState.await(context, () -> List.copyOf(departures));
  }

  /** The ids of the messages this peer sent that were acknowledged. */
  public Set<String> acked() {
    return InstanceState.await(context, () -> Set.copyOf(acks));
  }

  /** When each message was sent, by id (ms since the epoch). */
  public Map<String, Long> sentAt() {
    return InstanceState.await(context, () -> Map.copyOf(sentAt));
  }

  /** Closes the socket with leave, and reconnects no more. */
  public void stop() {
    InstanceState.await(context, () -> {
      stopped = true;
      if (ws != null) {
        ws.writeTextMessage(new JsonObject().put("type", "leave").encode());
      }
      return null;
    });
  }

  /** Whether this peer got every message {@code sender} sent it. */
  public boolean hasAllFrom(ResumingPeer sender) {
    return InstanceState.await(context, () -> got.getOrDefault(sender.peer, List.of()).size())
        >= InstanceState.await(sender.context, () -> sender.sent.getOrDefault(peer, 0L));
  }

  /** What {@code sender} sent this peer, by number, and what arrived, in order. */
  public List<List<Long>> sentAndGot(ResumingPeer sender) {
    long n = InstanceState.await(sender.context, () -> sender.sent.getOrDefault(peer, 0L));
    List<Long> expected = new ArrayList<>();
    for (long i = 1; i <= n; i++) {
      expected.add(i);
    }
    return List.of(expected, InstanceState.await(context, () -> List.copyOf(got.getOrDefault(sender.peer, List.of()))));
  }

  /** The messages this peer sent, and the distinct ids acknowledged. */
  public long[] sentAndAcked() {
    return InstanceState.await(context, () -> new long[] {sent.values().stream().mapToLong(Long::longValue).sum(),
        acks.size()});
  }

  /** Welcomes resumed, and {@code reconnect} frames seen. */
  public int[] resumesAndReconnects() {
    return InstanceState.await(context, () -> new int[] {resumes, reconnects});
  }

  private void connect(int port) {
    client.connect(port, "127.0.0.1", "/ws").onComplete(ar -> {
      if (stopped) {
        return;
      }
      if (ar.failed()) {
        context.owner().setTimer(100, t -> connect(nextPort()));
        return;
      }
      ws = ar.result();
      WebSocket socket = ws;
      socket.textMessageHandler(text -> received(socket, text));
      socket.closeHandler(v -> closed(socket));
      JsonObject join = new JsonObject().put("type", "join").put("room", room).put("peer", peer);
      if (token != null) {
        join.put("resume", token).put("received", received);
      }
      socket.writeTextMessage(join.encode());
    });
  }

  /** The next port of the "load balancer", round robin over the nodes there are now. */
  private int nextPort() {
    List<Integer> now = ports.get();
    return now.get(Math.floorMod(portTurn++, now.size()));
  }

  private void closed(WebSocket socket) {
    if (socket != ws) {
      return;
    }
    ws = null;
    joined = false;
    if (!stopped) {
      context.owner().setTimer(50, t -> connect(nextPort()));
    }
  }

  private void received(WebSocket socket, String text) {
    if (socket != ws) {
      return;
    }
    JsonObject m = new JsonObject(text);
    String type = m.getString("type");
    if (!"welcome".equals(type) && !"pong".equals(type)) {
      received++;
    }
    switch (type) {
      case "welcome" -> welcomed(m);
      case "message" -> got.computeIfAbsent(m.getString("from"), k -> new ArrayList<>())
          .add(m.getJsonObject("data").getLong("n"));
      case "ack" -> {
        if (!unanswered.remove(m.getString("id")) || !acks.add(m.getString("id"))) {
          anomalies.add(peer + " got a second answer, or one for nothing it sent: " + text);
        }
      }
      case "error" -> {
        String id = m.getString("id");
        if (id == null || !unanswered.remove(id)) {
          anomalies.add(peer + " got an error that answers nothing it awaits: " + text);
        } else {
          errors.put(id, m.getString("code"));
        }
      }
      case "peer-left" -> departures.add(text);
      case "reconnect" -> reconnects++;
      case "peer-joined" -> {
        if (!known.add(m.getString("peer"))) {
          anomalies.add(peer + " saw a peer it knew join again: " + text);
        }
      }
      default -> anomalies.add(peer + " saw " + text);
    }
  }

  private void welcomed(JsonObject w) {
    welcomes++;
    boolean resumed = w.getBoolean("resumed", false);
    if (welcomes > 1 && !resumed) {
      anomalies.add(peer + " joined afresh instead of resuming: " + w.encode());
    }
    if (welcomes == 1) {
      w.getJsonArray("peers").forEach(p -> known.add(((JsonObject) p).getString("peer")));
    }
    token = w.getString("resume");
    received = 0;
    joined = true;
    boolean nodeLost = resumed && w.getBoolean("nodeLost", false);
    if (nodeLost) {
      // Nobody knows what of ours the dead node got: nothing goes again, and no answer will come.
      unanswered.forEach(id -> errors.put(id, "node-lost"));
      unanswered.clear();
    }
    List<String> again = resumed && !nodeLost
        ? new ArrayList<>(sentSinceWelcome.subList(w.getInteger("received"), sentSinceWelcome.size())) : List.of();
    if (resumed) {
      resumes++;
      resumedAt.add(System.currentTimeMillis());
    }
    sentSinceWelcome.clear();
    again.forEach(this::write);
  }

  private void sendNext() {
    if (!joined || ws == null) {
      return;
    }
    String to = others.get(target++ % others.size());
    long n = sent.merge(to, 1L, Long::sum);
    String id = peer + ">" + to + "#" + n;
    unanswered.add(id);
    sentAt.put(id, System.currentTimeMillis());
    write(new JsonObject().put("type", "message").put("to", to).put("data", new JsonObject().put("n", n))
        .put("id", id).encode());
  }

  private void write(String frame) {
    sentSinceWelcome.add(frame);
    ws.writeTextMessage(frame);
  }

  /** Runs a read on the peer's context and waits for it: the peer's state is that context's alone. */
  private static final class InstanceState {
    static <T> T await(Context context, java.util.concurrent.Callable<T> read) {
      java.util.concurrent.CompletableFuture<T> out = new java.util.concurrent.CompletableFuture<>();
      context.runOnContext(v -> {
        try {
          out.complete(read.call());
        } catch (Exception e) {
          out.completeExceptionally(e);
        }
      });
      try {
        return out.get(10, java.util.concurrent.TimeUnit.SECONDS);
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    }
  }
}
