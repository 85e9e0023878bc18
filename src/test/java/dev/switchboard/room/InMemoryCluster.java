package dev.switchboard.room;

import dev.switchboard.auth.TurnCredentials;
import dev.switchboard.cluster.Envelope;
import dev.switchboard.config.Config;
import dev.switchboard.config.ConfigLoader;
import dev.switchboard.protocol.ClientMessage;
import dev.switchboard.protocol.Codec;
import dev.switchboard.protocol.Decoded;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The room rules of several nodes in one JVM, without Redis or Hazelcast: each node is a
 * {@link Router}, {@link LocalRooms}, {@link PeerSessions} and {@link Recovery} as {@code Node}
 * builds them, over one {@link ScriptedStore}. Nodes reach each other through a loopback that
 * keeps the node channel's promise (what one thread sends to a node is received in order, on
 * that node's channel event loop), and a link can be held and released to play a slow network.
 * Peers are sessions with a {@link Client} in place of a socket, each on an event loop of its own.
 */
final class InMemoryCluster implements AutoCloseable {

  static final Duration TTL = Duration.ofMillis(300);

  final Vertx vertx = Vertx.vertx();
  final ScriptedStore store = new ScriptedStore();
  final Map<String, Member> nodes = new LinkedHashMap<>();
  private final List<Client> clients = new java.util.concurrent.CopyOnWriteArrayList<>();
  /** Nodes that crashed: out of the cluster, and what is sent to them is lost. */
  private final java.util.Set<String> dead = java.util.concurrent.ConcurrentHashMap.newKeySet();
  /** Nodes that crashed but are still in the cluster: it has not noticed yet. */
  private final java.util.Set<String> crashed = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private final Config config;
  private final Codec codec;
  /** How long the traces of a move last on every node. */
  private final MoveWindows windows;

  /** One node of the in-memory cluster. */
  final class Member {
    final String id;
    final LocalRooms rooms = new LocalRooms(windows);
    final Router router;
    final PeerSessions sessions;
    final Recovery recovery;
    final Context channelLoop = vertx.getOrCreateContext();
    int drains;
    private final Map<String, List<Runnable>> held = new LinkedHashMap<>();

    Member(String id) {
      this.id = id;
      this.router = new Router(id, this::sendRemote, rooms, node -> nodes.containsKey(node) && !dead.contains(node),
          () -> drains++, () -> drains--);
      dev.switchboard.media.MediaServer noMedia = new dev.switchboard.media.MediaServer(vertx, config.media(), id);
      this.sessions = new PeerSessions(router, store, rooms, config.limits(), new TurnCredentials(config.ice()),
          noMedia, () -> { });
      this.recovery = new Recovery(vertx, router, store, rooms, TTL,
          node -> io.vertx.core.Future.succeededFuture(nodes.containsKey(node) && !dead.contains(node)), noMedia);
    }

    private void sendRemote(String node, Envelope e) {
      Member target = nodes.get(node);
      if (dead.contains(node) || crashed.contains(node)) {
        return;
      }
      Runnable delivery = () -> target.channelLoop.runOnContext(v -> target.router.receive(id, e));
      synchronized (held) {
        List<Runnable> queue = held.get(node);
        if (queue != null) {
          queue.add(delivery);
          return;
        }
      }
      delivery.run();
    }

    /** From now on, what this node sends to {@code node} waits, in order. */
    void hold(String node) {
      synchronized (held) {
        held.putIfAbsent(node, new ArrayList<>());
      }
    }

    /** Lets what waits for {@code node} go, in order, and every later envelope straight through. */
    void release(String node) {
      synchronized (held) {
        held.remove(node).forEach(Runnable::run);
      }
    }

    /** A new client on this node, its session on an event loop of its own. */
    Client connect() {
      return new Client(this);
    }

    /** A client that joined {@code room} as {@code peer}; its welcome has arrived. */
    Client join(String room, String peer) {
      Client c = connect();
      c.join(room, peer);
      c.expect("welcome");
      return c;
    }
  }

  /** A peer's socket: what the server writes to it, and how it was closed. */
  final class Client implements PeerSocket {
    final Member node;
    final Context context = vertx.getOrCreateContext();
    /** The session serving this client: its own, or the one it resumed. */
    volatile PeerSession session;
    final LinkedBlockingQueue<JsonObject> frames = new LinkedBlockingQueue<>();
    volatile short closeCode;
    JsonObject welcome;

    Client(Member node) {
      this.node = node;
      this.session = node.sessions.open(this, context);
      clients.add(this);
    }

    @Override
    public boolean send(String frame) {
      if (closeCode != 0) {
        return false;
      }
      frames.add(new JsonObject(frame));
      return true;
    }

    @Override
    public void close(short code, String reason) {
      if (closeCode == 0) {
        closeCode = code;
      }
    }

    /** Sends a client message, as the connection does once it parsed it. */
    void send(JsonObject message) {
      ClientMessage m = ((Decoded.Ok) codec.decode(message.encode())).message();
      context.runOnContext(v -> {
        if (m instanceof ClientMessage.Join j) {
          node.sessions.join(j, session, this, context, resumed -> session = resumed).onSuccess(a -> {
            if (a.session() != null) {
              session = a.session();
            }
          });
        } else if (m instanceof ClientMessage.Relay r) {
          fromClient(s -> s.relay(r));
        } else if (m instanceof ClientMessage.Broadcast b) {
          fromClient(s -> s.broadcast(b));
        } else if (m instanceof ClientMessage.State st) {
          fromClient(s -> s.state(st));
        } else if (m instanceof ClientMessage.Leave) {
          fromClient(s -> s.leave(dev.switchboard.protocol.LeaveReason.LEFT));
        }
      });
    }

    /** A client message, counted by the session as the connection has it counted. */
    private void fromClient(java.util.function.Consumer<PeerSession> action) {
      onSession(s -> {
        if (s.heard(this)) {
          action.accept(s);
        }
      });
    }

    /** As the connection does: on the session's loop, which is this client's unless it resumed. */
    private void onSession(java.util.function.Consumer<PeerSession> action) {
      PeerSession s = session;
      if (s.home() == context) {
        action.accept(s);
      } else {
        s.home().runOnContext(v -> action.accept(s));
      }
    }

    /** The socket drops without leave (the network, a closed tab): closed, as the connection reports it. */
    void drop() {
      context.runOnContext(v -> {
        if (closeCode == 0) {
          closeCode = 1006;
        }
        onSession(s -> s.socketGone(this, dev.switchboard.protocol.LeaveReason.DISCONNECTED));
      });
      settle();
    }

    /** A join with this client's last welcome's resume token, on a new socket of {@code on}. */
    Client resume(Member on) {
      Client c = on.connect();
      c.send(new JsonObject().put("type", "join").put("room", welcome.getString("room"))
          .put("peer", welcome.getString("peer")).put("resume", welcome.getString("resume")));
      return c;
    }

    /** This client's peer comes back through {@code on}, resumed there: the new client, its welcome read. */
    Client resumedThrough(Member on) {
      Client back = resume(on);
      JsonObject w = back.expect("welcome");
      if (!w.getBoolean("resumed", false)) {
        throw new AssertionError("not resumed through " + on.id + ": " + w.encode());
      }
      return back;
    }

    void join(String room, String peer) {
      send(new JsonObject().put("type", "join").put("room", room).put("peer", peer));
    }

    /** The next frame, whatever it is; fails after 5 s. */
    JsonObject next() {
      try {
        JsonObject f = frames.poll(5, TimeUnit.SECONDS);
        if (f == null) {
          throw new AssertionError("no frame within 5 s");
        }
        if ("welcome".equals(f.getString("type"))) {
          welcome = f;
        }
        return f;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }

    /** The next frame, which must be of {@code type}. */
    JsonObject expect(String type) {
      JsonObject f = next();
      if (!type.equals(f.getString("type"))) {
        throw new AssertionError("expected " + type + ", got " + f.encode());
      }
      return f;
    }

    /**
     * Every frame that has arrived once every session's loop and every node's channel loop have
     * done what was queued before this call (four rounds, for envelopes that hop between them).
     */
    List<JsonObject> settled() {
      settle();
      List<JsonObject> out = new ArrayList<>();
      frames.drainTo(out);
      return out;
    }
  }

  InMemoryCluster(String... ids) {
    this(List.of(), ids);
  }

  /** Nodes {@code ids} with these settings (command-line flags) over the test defaults. */
  InMemoryCluster(List<String> flags, String... ids) {
    this(MoveWindows.STANDARD, flags, ids);
  }

  /** As above, the traces of a move lasting {@code windows} (shorter, for tests that wait them out). */
  InMemoryCluster(MoveWindows windows, List<String> flags, String... ids) {
    this.windows = windows;
    List<String> all = new ArrayList<>(List.of("--limits-ack-timeout", "2s"));
    all.addAll(flags);
    config = ConfigLoader.load(all, Map.of());
    codec = new Codec(config.limits().metaBytes(), config.limits().stateBytes());
    for (String id : ids) {
      nodes.put(id, new Member(id));
    }
  }

  /** Alice on C and bob on A, in "room", every store step answered at once: the cast of the move tests. */
  Client[] aliceAndBob() {
    store.autoRelease();
    Client alice = node("C").join("room", "alice");
    Client bob = node("A").join("room", "bob");
    alice.expect("peer-joined");
    return new Client[] {alice, bob};
  }

  /** Returns once what was queued on every loop has run, four times over (an envelope hops at most that often). */
  void settle() {
    for (int round = 0; round < 4; round++) {
      nodes.values().forEach(m -> await(m.channelLoop));
      clients.forEach(c -> await(c.context));
    }
  }

  /** An offer with an id, as a client sends it. */
  static JsonObject offer(String to, String sdp, String id) {
    return new JsonObject().put("type", "offer").put("to", to).put("sdp", sdp).put("id", id);
  }

  /** The peer ids a welcome lists. */
  static List<String> peersOf(JsonObject welcome) {
    return welcome.getJsonArray("peers").stream().map(p -> ((JsonObject) p).getString("peer")).toList();
  }

  /** Node {@code id} crashes: it leaves the cluster, and envelopes to it are lost. */
  void kill(String id) {
    dead.add(id);
  }

  /** Node {@code id} crashes, and the cluster has not noticed yet: envelopes to it are lost. */
  void crash(String id) {
    crashed.add(id);
  }

  Member node(String id) {
    return nodes.get(id);
  }

  /** Returns once {@code context} has run everything queued on it before this call. */
  static void await(Context context) {
    java.util.concurrent.CompletableFuture<Void> done = new java.util.concurrent.CompletableFuture<>();
    context.runOnContext(v -> done.complete(null));
    try {
      done.get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("an event loop did not answer", e);
    }
  }

  @Override
  public void close() {
    vertx.close().await();
  }
}
