package dev.switchboard.registry;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cleans up after dead nodes. Every heartbeat, each node looks for nodes listed in
 * {@code sb:nodes} whose record has expired. For each, the one node that wins the lock
 * {@code sb:reap:<node>} removes the dead node's peers from their rooms (each with the leave
 * script, so a peer that another node holds by now is left alone), has every remaining member
 * told {@code peer-left} with reason {@code node-lost}, and removes the dead node's keys.
 */
public final class Reaper {

  private static final Logger log = LoggerFactory.getLogger(Reaper.class);

  /** What the room layer does with a peer the reaper removed: tell the room's nodes. */
  public interface Announcer {
    void peerLost(String room, String peer, String deadNode, RoomStore.Change change);
  }

  private final Vertx vertx;
  private final Redis redis;
  private final Keys keys;
  private final RoomStore store;
  private final String self;
  private final long intervalMs;
  private final long lockMs;
  private final long timeoutMs;
  private final Announcer announcer;
  private long timer = -1;
  private boolean running;

  public Reaper(Vertx vertx, Redis redis, Keys keys, RoomStore store, String self, Duration interval,
                Duration timeout, Announcer announcer) {
    this.vertx = vertx;
    this.redis = redis;
    this.keys = keys;
    this.store = store;
    this.self = self;
    this.intervalMs = interval.toMillis();
    // Long enough for one node to finish a large clean-up; a holder that dies frees it by expiry.
    this.lockMs = Math.max(30_000, interval.toMillis() * 10);
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
    if (running) {
      return Future.succeededFuture(0);
    }
    running = true;
    return deadNodes()
        .compose(dead -> {
          Future<Integer> chain = Future.succeededFuture(0);
          for (String node : dead) {
            chain = chain.compose(n -> tryReap(node).map(reaped -> n + reaped));
          }
          return chain;
        })
        .onFailure(err -> log.atDebug().addKeyValue("error", String.valueOf(err.getMessage()))
            .log("reaper pass failed; next heartbeat tries again"))
        .eventually(() -> {
          running = false;
          return Future.succeededFuture();
        });
  }

  /** Nodes listed in {@code sb:nodes} whose record has expired, other than this one. */
  Future<List<String>> deadNodes() {
    return redis.send(Request.cmd(Command.ZRANGE).arg(keys.nodes()).arg(0).arg(-1)).compose(ids -> {
      List<String> nodes = new ArrayList<>();
      List<Request> checks = new ArrayList<>();
      for (Response id : ids) {
        if (!self.equals(id.toString())) {
          nodes.add(id.toString());
          checks.add(Request.cmd(Command.EXISTS).arg(keys.node(id.toString())));
        }
      }
      if (checks.isEmpty()) {
        return Future.succeededFuture(List.<String>of());
      }
      return redis.batch(checks).map(found -> {
        List<String> dead = new ArrayList<>();
        for (int i = 0; i < found.size(); i++) {
          if (found.get(i).toInteger() == 0) {
            dead.add(nodes.get(i));
          }
        }
        return dead;
      });
    }).timeout(timeoutMs, TimeUnit.MILLISECONDS);
  }

  private Future<Integer> tryReap(String node) {
    String lock = keys.reapLock(node);
    return redis.send(Request.cmd(Command.SET).arg(lock).arg(self).arg("NX").arg("PX").arg(lockMs))
        .compose(won -> won == null ? Future.succeededFuture(0) : reap(node))
        .timeout(lockMs, TimeUnit.MILLISECONDS);
  }

  private Future<Integer> reap(String node) {
    return redis.send(Request.cmd(Command.SMEMBERS).arg(keys.nodePeers(node))).compose(members -> {
      Set<String> pairs = new HashSet<>();
      members.forEach(m -> pairs.add(m.toString()));
      Future<Integer> chain = Future.succeededFuture(0);
      for (String pair : pairs) {
        int slash = pair.indexOf('/');
        String room = pair.substring(0, slash);
        String peer = pair.substring(slash + 1);
        chain = chain.compose(n -> store.leave(room, peer, node).map(change -> {
          if (change.applied()) {
            announcer.peerLost(room, peer, node, change);
            return n + 1;
          }
          return n;
        }));
      }
      return chain;
    }).compose(removed -> Future.all(
            redis.send(Request.cmd(Command.DEL).arg(keys.nodePeers(node))),
            redis.send(Request.cmd(Command.ZREM).arg(keys.nodes()).arg(node)))
        .map(v -> {
          log.atWarn().addKeyValue("node", self).addKeyValue("dead", node).addKeyValue("peers", removed)
              .log("reaped a dead node: its peers left their rooms (node-lost)");
          return removed;
        }));
  }
}
