package dev.switchboard.registry;

import dev.switchboard.async.OneAtATime;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cleans up after dead nodes. A node is dead when the cluster says it left ({@link #nodeLeft},
 * within a second of a kill) or, as the backstop for whatever the cluster misses, when its record
 * has expired: every heartbeat, each node looks for nodes listed in {@code sb:nodes} whose record
 * is gone ({@link #sweep}). For each dead node, the one node that wins the lock
 * {@code sb:reap:<node>} marks it reaped ({@code sb:reaped:<node>}, so the node knows if it
 * wakes up, and the store lets other nodes hold messages for its peers and adopt them); then,
 * after the resume window in which its peers may resume on other nodes (they are orphans until
 * then), it removes those still there from their rooms (each with the leave script, which leaves
 * a peer alone if another node holds it by now, and stops if the dead node has a record again),
 * has every remaining member told {@code peer-left} with reason {@code node-lost}, and drops
 * the node from {@code sb:nodes} once it has no peers left.
 */
public final class Reaper {

  private static final Logger log = LoggerFactory.getLogger(Reaper.class);
  private static final LuaScript MARK = LuaScript.load("mark_reaped.lua");
  private static final LuaScript FORGET = LuaScript.load("forget_node.lua");
  private static final LuaScript MARK_LEFT = LuaScript.load("mark_left.lua");
  /** The longest a minority watches a departed node's heartbeat before reaping it (see {@link #beatWaitMs}). */
  static final long MAX_BEAT_WAIT_MS = 1500;
  /** Pairs read per SSCAN step of a clean-up. */
  private static final int SCAN_BATCH = 200;
  /** How long a reaped node's marker lives: long enough for a hung node to wake up and see it. */
  private static final long MARKER_MS = 24 * 3600 * 1000L;

  /** What the room layer does with a peer the reaper removed: tell the room's nodes. */
  public interface Announcer {
    void peerLost(String room, String peer, String deadNode, RoomStore.Change change);
  }

  private final Vertx vertx;
  private final Redis redis;
  private final Keys keys;
  private final RedisRoomStore store;
  private final String self;
  private final long intervalMs;
  private final long lockMs;
  private final long timeoutMs;
  private final long orphanWindowMs;
  private final Announcer announcer;
  private final BooleanSupplier mayReap;
  private final BooleanSupplier declaredDead;
  private long timer = -1;
  private boolean running;

  /**
   * {@code mayReap} says whether this node's own view of Redis can be trusted right now: a node
   * whose heartbeats have not been succeeding for a whole TTL may be coming back from an outage
   * in which every record expired, and must not declare the others dead.
   */
  /**
   * {@code orphanWindow} is how long a dead node's peers may resume elsewhere before they are
   * removed ({@code limits.resume-window}; zero removes them at once).
   */
  public Reaper(Vertx vertx, Redis redis, Keys keys, RedisRoomStore store, String self, Duration interval,
                Duration timeout, Duration orphanWindow, Announcer announcer, BooleanSupplier mayReap,
                BooleanSupplier declaredDead) {
    this.orphanWindowMs = orphanWindow.toMillis();
    this.mayReap = mayReap;
    this.declaredDead = declaredDead;
    this.vertx = vertx;
    this.redis = redis;
    this.keys = keys;
    this.store = store;
    this.self = self;
    this.intervalMs = interval.toMillis();
    // Long enough for the orphans' window and one node's large clean-up after it; a holder that
    // dies frees it by expiry, and the sweep of another node then reaps at once.
    this.lockMs = Math.max(30_000, interval.toMillis() * 10) + orphanWindow.toMillis();
    this.timeoutMs = timeout.toMillis();
    this.announcer = announcer;
  }

  public void start() {
    timer = vertx.setPeriodic(intervalMs, id -> sweep());
  }

  public void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }

  /** One pass: find dead nodes and reap those whose lock this node wins. */
  public Future<Integer> sweep() {
    if (running || !mayReap.getAsBoolean()) {
      return Future.succeededFuture(0);
    }
    running = true;
    return deadNodes()
        .compose(dead -> OneAtATime.each(dead, node -> tryReap(node).recover(err -> Future.succeededFuture(0))))
        .map(counts -> counts.stream().mapToInt(Integer::intValue).sum())
        .onFailure(err -> log.atDebug().addKeyValue("error", String.valueOf(err.getMessage()))
            .log("reaper pass failed; next heartbeat tries again"))
        .eventually(() -> {
          running = false;
          return Future.succeededFuture();
        });
  }

  /**
   * The cluster says {@code node} left it, {@code members} nodes remaining (this one included).
   * A node cut off from the others by the network leaves the cluster too, on both sides of the
   * cut, and must not be declared dead by a side that is itself the one cut off. So it is reaped
   * at once only when the remaining members are a majority of the nodes whose records are alive
   * in Redis (a killed node of three); otherwise only if its heartbeat is seen to stop over
   * {@link #beatWaitMs} (a killed node of two). A node that keeps writing its heartbeat is alive
   * beyond a partition and left alone: Hazelcast merges the two sides once the network heals.
   * Whichever way, the node that wins the lock does the clean-up, once. Unlike the sweep, this
   * needs no history of healthy heartbeats: it acts on a record it has just read.
   */
  public Future<Integer> nodeLeft(String node, int members) {
    if (node.equals(self) || declaredDead.getAsBoolean()) {
      return Future.succeededFuture(0); // a node the others declared dead is the one that was cut off
    }
    return records().compose(alive -> redis.send(Request.cmd(Command.EXISTS).arg(keys.reaped(self))).compose(marked -> {
      List<String> live = alive.stream().filter(Record::alive).map(Record::node).toList();
      if (!live.contains(self) || marked.toInteger() == 1) {
        // This node's own record is gone, or marked reaped: it was cut off (a hang, a partition)
        // and is about to learn it at its next heartbeat. It judges no one.
        return Future.succeededFuture(0);
      }
      if (alive.stream().noneMatch(r -> r.node().equals(node))) {
        return Future.succeededFuture(0); // it withdrew its record: a clean stop, nothing to clean
      }
      if (!live.contains(node)) {
        // Its record is gone already: what the sweep does, with the sweep's caution.
        return mayReap.getAsBoolean() ? tryReap(node) : Future.succeededFuture(0);
      }
      if (members * 2 > live.size()) {
        return tryReap(node, "");
      }
      return redis.send(Request.cmd(Command.HGET).arg(keys.node(node)).arg("beat"))
          .compose(beat -> vertx.timer(beatWaitMs()).map(beat == null ? "" : beat.toString()))
          .compose(beat -> beat.isEmpty() ? tryReap(node) : tryReap(node, beat));
    })).onFailure(err -> log.atWarn().addKeyValue("left", node).addKeyValue("error", String.valueOf(err.getMessage()))
        .log("could not clean up after a node that left the cluster; the sweep will, once its record expires"));
  }

  /**
   * How long a minority watches a departed node's heartbeat: one and a half heartbeats, and at
   * most {@link #MAX_BEAT_WAIT_MS}. Every node writes a heartbeat as soon as it sees a node leave
   * (Node wires it), so a node alive beyond a partition, which sees the others leave within about
   * a second of them seeing it leave (Hazelcast's heartbeat), is seen writing within that bound.
   */
  long beatWaitMs() {
    return Math.min(intervalMs * 3 / 2, MAX_BEAT_WAIT_MS);
  }

  /** Nodes listed in {@code sb:nodes} whose record has expired, other than this one. */
  Future<List<String>> deadNodes() {
    return records().map(all -> all.stream().filter(r -> !r.alive() && !r.node().equals(self)).map(Record::node).toList());
  }

  /** A node listed in {@code sb:nodes}, and whether its record exists. */
  private record Record(String node, boolean alive) {
  }

  private Future<List<Record>> records() {
    return redis.send(Request.cmd(Command.ZRANGE).arg(keys.nodes()).arg(0).arg(-1)).compose(ids -> {
      List<String> nodes = new ArrayList<>();
      List<Request> checks = new ArrayList<>();
      for (Response id : ids) {
        nodes.add(id.toString());
        checks.add(Request.cmd(Command.EXISTS).arg(keys.node(id.toString())));
      }
      if (checks.isEmpty()) {
        return Future.succeededFuture(List.<Record>of());
      }
      return redis.batch(checks).map(found -> {
        List<Record> records = new ArrayList<>();
        for (int i = 0; i < found.size(); i++) {
          records.add(new Record(nodes.get(i), found.get(i).toInteger() == 1));
        }
        return records;
      });
    }).timeout(timeoutMs, TimeUnit.MILLISECONDS);
  }

  /** Reaps {@code node}, whose record has expired, if this node wins the lock. */
  private Future<Integer> tryReap(String node) {
    return tryReap(node, () -> MARK.run(redis, List.of(keys.node(node), keys.reaped(node)),
        List.of(self, Long.toString(MARKER_MS))));
  }

  /**
   * Reaps {@code node}, which left the cluster, if this node wins the lock: deletes its record
   * first; with {@code beat} not empty, only if its heartbeat number is still {@code beat}.
   */
  private Future<Integer> tryReap(String node, String beat) {
    return tryReap(node, () -> MARK_LEFT.run(redis, List.of(keys.node(node), keys.reaped(node)),
        List.of(self, Long.toString(MARKER_MS), beat)));
  }

  private Future<Integer> tryReap(String node, Supplier<Future<Response>> mark) {
    String lock = keys.reapLock(node);
    return redis.send(Request.cmd(Command.SET).arg(lock).arg(self).arg("NX").arg("PX").arg(lockMs))
        .compose(won -> {
          if (won == null) {
            return Future.succeededFuture(0);
          }
          Future<Integer> reaped = mark.get()
              .compose(marked -> marked.toInteger() == 1 ? orphanWindow(node).compose(v -> reap(node))
                  : Future.succeededFuture(0))
              .eventually(() -> FORGET.run(redis,
                  List.of(keys.node(node), keys.nodePeers(node), keys.nodes(), lock), List.of(node, self)));
          // Through an orphan window the clean-up goes on by itself: a sweep does not wait for it.
          return orphanWindowMs > 0 ? Future.succeededFuture(0) : reaped;
        });
  }

  /**
   * The node is declared dead: its peers are orphans, which may resume on other nodes (the store
   * adopts them there) until the window ends.
   */
  private Future<Void> orphanWindow(String node) {
    if (orphanWindowMs <= 0) {
      return Future.succeededFuture();
    }
    log.atWarn().addKeyValue("node", self).addKeyValue("dead", node).addKeyValue("windowMs", orphanWindowMs)
        .log("a node died: its peers may resume on other nodes until the window ends");
    return vertx.timer(orphanWindowMs).mapEmpty();
  }

  /**
   * Removes the dead node's peers a batch at a time (SSCAN), one leave each, each step started
   * when the previous one is done. A leave that fails is skipped: the pair stays in the set and
   * the next pass retries it. The pass stops if the node turns out to be alive.
   */
  private Future<Integer> reap(String node) {
    Promise<Integer> done = Promise.promise();
    int[] removed = {0};
    scan(node, "0", removed, done);
    return done.future().onSuccess(n -> log.atWarn().addKeyValue("node", self).addKeyValue("dead", node)
        .addKeyValue("peers", n).log("reaped a dead node: its peers left their rooms (node-lost)"));
  }

  private void scan(String node, String cursor, int[] removed, Promise<Integer> done) {
    redis.send(Request.cmd(Command.SSCAN).arg(keys.nodePeers(node)).arg(cursor).arg("COUNT").arg(SCAN_BATCH))
        .onFailure(done::fail)
        .onSuccess(page -> {
          String next = page.get(0).toString();
          List<String> pairs = new ArrayList<>();
          page.get(1).forEach(p -> pairs.add(p.toString()));
          leaveAll(node, pairs, removed).onComplete(ar -> {
            if (ar.failed()) {
              done.fail(ar.cause());
            } else if (!ar.result() || "0".equals(next)) {
              done.complete(removed[0]);
            } else {
              scan(node, next, removed, done);
            }
          });
        });
  }

  /** Leaves {@code pairs} one after the other; false if the node turned out alive (the rest are left alone). */
  private Future<Boolean> leaveAll(String node, List<String> pairs, int[] removed) {
    boolean[] alive = {false};
    return OneAtATime.each(pairs, pair -> alive[0] ? Future.succeededFuture(false) : leave(node, pair, removed)
        .map(stillDead -> {
          alive[0] = !stillDead;
          return stillDead;
        })).map(v -> !alive[0]);
  }

  /** One reaper leave; false if the node turned out alive. A failed leave is retried next pass. */
  private Future<Boolean> leave(String node, String pair, int[] removed) {
    RoomPeer member = RoomPeer.parse(pair);
    return store.reapLeave(member.room(), member.peer(), node)
        .map(change -> {
          if (change.applied()) {
            announcer.peerLost(member.room(), member.peer(), node, change);
            removed[0]++;
          }
          return !change.alive();
        })
        .recover(err -> {
          log.atDebug().addKeyValue("dead", node).addKeyValue("pair", pair)
              .addKeyValue("error", String.valueOf(err.getMessage())).log("reaper leave failed; retried next pass");
          return Future.succeededFuture(true);
        });
  }
}
