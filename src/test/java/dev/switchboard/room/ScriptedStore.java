package dev.switchboard.room;

import dev.switchboard.registry.RoomStore;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A {@link RoomStore} in memory whose steps wait for the test: each call is queued, and runs
 * against the in-memory rooms only when the test releases it, in the order the test chooses.
 * That order is the order the real store would have run them in; so a race between two joins,
 * or between a join and a leave, becomes a script instead of a sleep. With {@link #autoRelease}
 * every step runs at once. Thread-safe.
 *
 * <p>The model follows the Lua scripts: one sequence per room that every step raises, members
 * with the sequence of their last change, and the nodes holding members.
 */
final class ScriptedStore implements RoomStore {

  /** One step waiting for the test. */
  final class Step {
    final String name;
    final String room;
    final String peer;
    private final Supplier<Object> run;
    private final Promise<Object> answer = Promise.promise();

    Step(String name, String room, String peer, Supplier<Object> run) {
      this.name = name;
      this.room = room;
      this.peer = peer;
      this.run = run;
    }

    /** Runs the step against the rooms now and answers it. */
    void release() {
      Object result;
      synchronized (ScriptedStore.this) {
        pending.remove(this);
        result = run.get();
      }
      answer.complete(result);
    }

    /** Runs the step, but its answer is lost: the caller sees a timeout, yet the store changed. */
    void answerLost() {
      synchronized (ScriptedStore.this) {
        pending.remove(this);
        run.get();
      }
      answer.fail(new IllegalStateException("the scripted store's answer to " + name + " was lost"));
    }

    /** Answers the step with a failure without running it: the store did not answer. */
    void fail() {
      synchronized (ScriptedStore.this) {
        pending.remove(this);
      }
      answer.fail(new IllegalStateException("the scripted store did not answer " + name));
    }

    @Override
    public String toString() {
      return name + "(" + room + "/" + peer + ")";
    }
  }

  private static final class Room {
    RoomKind kind = RoomKind.MESH;
    long seq;
    final Map<String, JsonObject> members = new LinkedHashMap<>();
    /** Peer -> digest of its resume token. */
    final Map<String, String> tokens = new HashMap<>();
    /** Peer -> frames held for it after its node died. */
    final Map<String, List<String>> held = new HashMap<>();
  }

  private final Map<String, Room> rooms = new LinkedHashMap<>();
  private final Set<String> liveNodes = new HashSet<>();
  /** Nodes the reaper declared dead (their reaped marker). */
  private final Set<String> deadNodes = new HashSet<>();
  private final List<Step> pending = new ArrayList<>();
  private boolean autoRelease;

  /**
   * Creates {@code room} as {@code kind}, as {@code POST /v1/rooms} does (a room a join creates
   * is a mesh). In a broadcast, a join naming no role is a viewer's, and the presenter names its role.
   */
  synchronized void create(String room, RoomKind kind) {
    rooms.computeIfAbsent(room, k -> new Room()).kind = kind;
  }

  /** Every later step runs as soon as it is asked for. */
  /** The record of {@code peer} in {@code room} as the store has it now (null if absent). */
  synchronized JsonObject member(String room, String peer) {
    Room r = rooms.get(room);
    return r == null ? null : r.members.get(peer);
  }

  synchronized ScriptedStore autoRelease() {
    autoRelease = true;
    return this;
  }

  /** Every later step waits again until the test releases it. */
  synchronized ScriptedStore manual() {
    autoRelease = false;
    return this;
  }

  /** Marks {@code node} as heartbeating (it has a record). */
  synchronized void live(String... nodes) {
    liveNodes.addAll(List.of(nodes));
  }

  /** Marks {@code node} as declared dead by the reaper: its peers may be adopted and held for. */
  synchronized void declaredDead(String node) {
    deadNodes.add(node);
  }

  /** The digest of {@code peer}'s resume token as the store has it (null if none). */
  synchronized String token(String room, String peer) {
    Room r = rooms.get(room);
    return r == null ? null : r.tokens.get(peer);
  }

  /** Forgets everything, as a store restarted without persistence does. */
  synchronized void loseData() {
    rooms.clear();
    liveNodes.clear();
  }

  /** Waits until a step named {@code name} about {@code peer} is queued, and returns it. */
  synchronized Step await(String name, String peer) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    for (long left = deadline - System.nanoTime(); left > 0; left = deadline - System.nanoTime()) {
      for (Step s : pending) {
        if (s.name.equals(name) && s.peer.equals(peer)) {
          return s;
        }
      }
      try {
        TimeUnit.NANOSECONDS.timedWait(this, left); // woken by the next step asked for
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    throw new AssertionError("no " + name + " of " + peer + " was asked for; pending: " + pending);
  }

  synchronized List<Step> pendingSteps() {
    return List.copyOf(pending);
  }

  /** The members of {@code room} now, by peer id. */
  synchronized Set<String> members(String room) {
    Room r = rooms.get(room);
    return r == null ? Set.of() : new TreeSet<>(r.members.keySet());
  }

  @SuppressWarnings("unchecked")
  private synchronized <T> Future<T> ask(String name, String room, String peer, Supplier<T> run) {
    Step step = new Step(name, room, peer, (Supplier<Object>) run);
    if (autoRelease) {
      return Future.succeededFuture(run.get());
    }
    pending.add(step);
    notifyAll();
    return (Future<T>) step.answer.future();
  }

  @Override
  public Future<JoinResult> join(String room, String peer, String node, JsonObject record, int defaultMaxPeers,
                                 String tokenDigest) {
    return ask("join", room, peer, () -> {
      Room r = rooms.computeIfAbsent(room, k -> new Room());
      if (r.members.containsKey(peer)) {
        return JoinResult.refused(JoinStatus.TAKEN);
      }
      String role = record.getString("role", "");
      boolean broadcast = "broadcast".equals(r.kind.mode());
      if (role.isEmpty()) {
        role = broadcast ? "viewer" : "peer";
      } else if (role.equals("peer") == broadcast) { // a peer in a broadcast, a presenter or viewer in a mesh
        return JoinResult.refused(JoinStatus.ROLE);
      } else if (role.equals("presenter")
          && r.members.values().stream().anyMatch(m -> "presenter".equals(m.getString("role")))) {
        return JoinResult.refused(JoinStatus.PRESENTER_TAKEN);
      }
      if (r.members.size() >= defaultMaxPeers) {
        return JoinResult.refused(JoinStatus.FULL);
      }
      r.seq++;
      r.members.put(peer, record.copy().put("seq", r.seq).put("node", node).put("role", role));
      token(r, peer, tokenDigest);
      return new JoinResult(JoinStatus.OK, r.seq, stored(r), r.kind, role);
    });
  }

  @Override
  public Future<Change> leave(String room, String peer, String node) {
    return ask("leave", room, peer, () -> {
      Room r = rooms.get(room);
      JsonObject m = r == null ? null : r.members.get(peer);
      if (m == null || !node.equals(m.getString("node"))) {
        return new Change(false, 0, List.of(), false);
      }
      r.members.remove(peer);
      r.tokens.remove(peer);
      r.held.remove(peer);
      r.seq++;
      return new Change(true, r.seq, nodes(r), false);
    });
  }

  @Override
  public Future<Change> reapLeave(String room, String peer, String dead) {
    return leave(room, peer, dead);
  }

  @Override
  public Future<Change> leave(String room, String peer, String node, long timeoutMs) {
    return leave(room, peer, node);
  }

  @Override
  public Future<Change> updateMember(String room, String peer, String node, JsonObject record) {
    return ask("state", room, peer, () -> {
      Room r = rooms.get(room);
      JsonObject m = r == null ? null : r.members.get(peer);
      if (m == null || !node.equals(m.getString("node"))) {
        return new Change(false, 0, List.of(), false);
      }
      r.seq++;
      r.members.put(peer, record.copy().put("seq", r.seq).put("node", node));
      return new Change(true, r.seq, nodes(r), false);
    });
  }

  @Override
  public Future<Snapshot> restore(String room, String peer, String node, JsonObject record, long minSeq,
                                  String tokenDigest) {
    return ask("restore", room, peer, () -> {
      Room r = rooms.computeIfAbsent(room, k -> new Room());
      r.seq = Math.max(r.seq, minSeq);
      boolean applied = !r.members.containsKey(peer);
      if (applied) {
        r.seq++;
        r.members.put(peer, record.copy().put("seq", r.seq).put("node", node));
        token(r, peer, tokenDigest);
      }
      return new Snapshot(applied, r.seq, stored(r));
    });
  }

  @Override
  public Future<List<String>> nodePeers(String node) {
    return ask("nodePeers", "", node, () -> {
      List<String> pairs = new ArrayList<>();
      rooms.forEach((room, r) -> r.members.forEach((peer, m) -> {
        if (node.equals(m.getString("node"))) {
          pairs.add(room + "/" + peer);
        }
      }));
      return pairs;
    });
  }

  @Override
  public Future<List<String>> liveNodes(List<String> nodes) {
    return ask("liveNodes", "", "", () -> nodes.stream().filter(liveNodes::contains).toList());
  }

  @Override
  public Future<Snapshot> rekey(String room, String peer, String node, String tokenDigest) {
    return ask("rekey", room, peer, () -> {
      Room r = rooms.computeIfAbsent(room, k -> new Room());
      JsonObject m = r.members.get(peer);
      if (m != null && node.equals(m.getString("node"))) {
        token(r, peer, tokenDigest);
      }
      return new Snapshot(false, r.seq, stored(r));
    });
  }

  @Override
  public Future<Moved> move(String room, String peer, String from, String to, String tokenDigest) {
    return ask("move", room, peer, () -> moveNow(room, peer, from, to, tokenDigest));
  }

  @Override
  public Future<Moved> adopt(String room, String peer, String dead, String to, String presentedDigest,
                             String tokenDigest) {
    return ask("adopt", room, peer, () -> {
      Room r = rooms.computeIfAbsent(room, k -> new Room());
      JsonObject m = r.members.get(peer);
      if (m == null || !dead.equals(m.getString("node"))) {
        return Moved.refused(MoveStatus.ABSENT);
      }
      if (!deadNodes.contains(dead)) {
        return Moved.refused(MoveStatus.ALIVE);
      }
      if (presentedDigest == null || !presentedDigest.equals(r.tokens.get(peer))) {
        return Moved.refused(MoveStatus.REFUSED);
      }
      return moveNow(room, peer, dead, to, tokenDigest);
    });
  }

  private Moved moveNow(String room, String peer, String from, String to, String tokenDigest) {
    Room r = rooms.computeIfAbsent(room, k -> new Room());
    JsonObject m = r.members.get(peer);
    if (m == null || !from.equals(m.getString("node"))) {
      return Moved.refused(MoveStatus.ABSENT);
    }
    r.seq++;
    r.members.put(peer, m.copy().put("seq", r.seq).put("node", to));
    token(r, peer, tokenDigest);
    List<String> held = r.held.remove(peer);
    return new Moved(MoveStatus.OK, r.seq, stored(r), held == null ? List.of() : held, r.kind);
  }

  @Override
  public Future<Held> hold(String room, String peer, String dead, String frame, int maxFrames, int maxBytes,
                           long ttlMs) {
    return ask("hold", room, peer, () -> {
      Room r = rooms.computeIfAbsent(room, k -> new Room());
      JsonObject m = r.members.get(peer);
      if (m == null) {
        return new Held(HoldStatus.ABSENT, null);
      }
      if (!dead.equals(m.getString("node"))) {
        return new Held(HoldStatus.MOVED, m.getString("node"));
      }
      if (!deadNodes.contains(dead)) {
        return new Held(HoldStatus.ALIVE, null);
      }
      List<String> held = r.held.computeIfAbsent(peer, k -> new ArrayList<>());
      int bytes = held.stream().mapToInt(String::length).sum() + frame.length();
      if (held.size() >= maxFrames || bytes > maxBytes) {
        return new Held(HoldStatus.FULL, null);
      }
      held.add(frame);
      return new Held(HoldStatus.HELD, null);
    });
  }

  private static void token(Room r, String peer, String digest) {
    if (digest == null) {
      r.tokens.remove(peer);
    } else {
      r.tokens.put(peer, digest);
    }
  }

  @Override
  public Future<Snapshot> snapshot(String room) {
    return ask("snapshot", room, "", () -> {
      Room r = rooms.computeIfAbsent(room, k -> new Room());
      return new Snapshot(false, r.seq, stored(r));
    });
  }

  private static List<StoredMember> stored(Room r) {
    List<StoredMember> out = new ArrayList<>();
    r.members.forEach((peer, m) -> out.add(new StoredMember(peer, m.copy())));
    return out;
  }

  private static List<String> nodes(Room r) {
    return r.members.values().stream().map(m -> m.getString("node")).distinct().toList();
  }
}
