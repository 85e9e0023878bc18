package dev.switchboard.races;

import static dev.switchboard.testing.Waits.drain;
import static dev.switchboard.testing.Waits.sleep;
import static dev.switchboard.testing.Waits.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.testing.TestCluster;
import dev.switchboard.testing.TestPeer;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The reaper of dead nodes, on a real cluster and Redis. Some tests put a node in Redis the way a
 * node writes itself there (record, {@code sb:nodes} score, members, {@code sb:node:<n>:peers})
 * without starting it: a node that crashed is, for the reaper and for Redis, exactly that.
 */
class ReaperFailureRacesTest {


  /**
   * Writes node {@code node} into Redis as a live node holding {@code peer} in {@code room}, as
   * its heartbeat and join script would. KEYS: none. ARGV: node, room, peer, record TTL in ms.
   */
  private static final String LIVE_NODE_WITH_PEER = String.join("\n",
      "local node, room, peer = ARGV[1], ARGV[2], ARGV[3]",
      "redis.call('HSET', 'sb:node:' .. node, 'url', 'http://127.0.0.1:9', 'connections', '1', 'rooms', '1',",
      "  'state', 'active', 'startedAt', '0', 'heartbeatAt', '0', 'version', 'dev')",
      "redis.call('PEXPIRE', 'sb:node:' .. node, ARGV[4])",
      "redis.call('ZADD', 'sb:nodes', 1, node)",
      "local seq = redis.call('INCR', 'sb:{' .. room .. '}:seq')",
      "redis.call('HSET', 'sb:{' .. room .. '}:peers', peer, '{\"seq\":' .. seq .. ',\"node\":\"' .. node",
      "  .. '\",\"meta\":{},\"state\":{},\"role\":\"peer\",\"joinedAt\":0}')",
      "redis.call('HINCRBY', 'sb:{' .. room .. '}:nodes', node, 1)",
      "redis.call('ZADD', 'sb:rooms', redis.call('HLEN', 'sb:{' .. room .. '}:peers'), room)",
      "redis.call('SADD', 'sb:node:' .. node .. ':peers', room .. '/' .. peer)",
      "return seq");

  /**
   * A dead node {@code ARGV[1]} (no record, listed first in {@code sb:nodes}) holding
   * {@code ARGV[3]} peers in room {@code ARGV[2]}; and node {@code ARGV[4]}'s record gone, as if
   * it had been silent past its TTL. Atomic, so one reaper pass sees both.
   */
  private static final String DEAD_NODE_AND_EXPIRED_RECORD = String.join("\n",
      "local node, room, n = ARGV[1], ARGV[2], tonumber(ARGV[3])",
      "redis.call('ZADD', 'sb:nodes', -1, node)",
      "for i = 1, n do",
      "  local peer = 'p' .. i",
      "  redis.call('HSET', 'sb:{' .. room .. '}:peers', peer, '{\"seq\":1,\"node\":\"' .. node",
      "    .. '\",\"meta\":{},\"state\":{},\"role\":\"peer\",\"joinedAt\":0}')",
      "  redis.call('SADD', 'sb:node:' .. node .. ':peers', room .. '/' .. peer)",
      "end",
      "redis.call('HSET', 'sb:{' .. room .. '}:nodes', node, n)",
      "redis.call('DEL', 'sb:node:' .. ARGV[4])",
      "return n");

  private static String room() {
    return "reap-" + UUID.randomUUID().toString().substring(0, 8);
  }




  private static List<String> peerIds(JsonObject welcome) {
    return welcome.getJsonArray("peers").stream().map(p -> ((JsonObject) p).getString("peer")).toList();
  }

  // --- The reaper acts on a list of dead nodes it read before a long clean-up ---

  @Test
  @DisplayName("a node found dead at the start of a reaper pass, that wakes up while the pass cleans up "
      + "another dead node, keeps the peers that join it afterwards")
  void reaperDoesNotActOnAStaleDeadList() {
    // Node 0 (Y) reaps every 300 ms. Node 1 (X) heartbeats only when a socket opens or closes
    // (its periodic beat is 20 s away): the test decides when X "wakes up".
    try (TestCluster cluster = TestCluster.start(1, TestCluster.failureSettings("300ms", "1s"))) {
      cluster.addNode(TestCluster.failureSettings("20s", "60s"));
      String x = cluster.node(1).nodeId();
      String room = room();
      TestPeer b = cluster.join(0, room, "b");
      TestPeer a = cluster.join(1, room, "a");
      assertEquals("a", b.expect("peer-joined").getString("peer"));

      // A node with many peers died, and X's record lapsed (X hung): one reaper pass sees both.
      String dead = "dead-" + UUID.randomUUID().toString().substring(0, 6);
      cluster.redis(Command.EVAL, DEAD_NODE_AND_EXPIRED_RECORD, 0, dead, room() + "-big", 8000, x);
      assertTrue(waitFor(3000, () -> cluster.redis(Command.EXISTS, "sb:reap:" + dead).toInteger() == 1),
          "Y's reaper took the dead node's lock");

      // X wakes up before the pass reaches it: its next heartbeat writes its record back (it
      // was not reaped, so it keeps its sockets).
      TestPeer probe = cluster.connect(1);
      assertTrue(waitFor(3000, () -> cluster.redis(Command.EXISTS, "sb:node:" + x).toInteger() == 1),
          "X wrote its record back");
      TestPeer a2 = a;
      assertEquals(1, cluster.redis(Command.EXISTS, "sb:node:" + dead + ":peers").toInteger(),
          "precondition: the reaper is still busy with the other dead node");

      // The pass goes on with X, from the list it read before X woke up.
      assertTrue(waitFor(20000, () -> cluster.redis(Command.EXISTS, "sb:node:" + dead + ":peers").toInteger() == 0),
          "the reaper finished the big dead node");
      // A negative check follows (b must not hear of a): nothing signals "no announcement is
      // coming", so the announcements of the finished pass get half a second to arrive.
      sleep(500);
      List<JsonObject> toB = drain(b, 300);
      boolean listed = cluster.redis(Command.HEXISTS, "sb:{" + room + "}:peers", "a").toInteger() == 1;
      boolean xListed = cluster.redis(Command.ZSCORE, "sb:nodes", x) != null;
      assertTrue(listed && toB.isEmpty() && !a2.isClosed(),
          "a joined the live node X again after X came back, yet: Redis lists a: " + listed + ", b got " + toB
              + ", X in sb:nodes: " + xListed + ", sb:node:X:peers: "
              + cluster.redis(Command.SMEMBERS, "sb:node:" + x + ":peers"));
      probe.close();
      a2.close();
      b.close();
    }
  }

  // --- One slow leave in the clean-up of a big dead node ---

  @Test
  @DisplayName("after one leave of a big clean-up times out (Redis slow for a moment), the node's reaper "
      + "still reaps the next dead node")
  void reaperSurvivesATimeoutInABigCleanUp() {
    try (TestCluster cluster = TestCluster.start(1, Map.of("limits-rate", "100000", "limits-rate-burst", "100000",
        "redis-timeout", "300ms", "node-heartbeat", "300ms", "node-heartbeat-ttl", "3s"))) {
      String big = "big-" + UUID.randomUUID().toString().substring(0, 6);
      cluster.redis(Command.EVAL, DEAD_NODE_AND_EXPIRED_RECORD, 0, big, room() + "-big", 5000, "none");
      // The reaper starts once its own heartbeats have landed for a whole TTL (3 s).
      assertTrue(waitFor(8000, () -> cluster.redis(Command.EXISTS, "sb:reap:" + big).toInteger() == 1),
          "the reaper took the big dead node's lock");
      // Redis stalls for 700 ms (a fork for a snapshot, a slow command): the leave in flight
      // times out after 300 ms, and the clean-up stops there; the lock lets another pass retry.
      // (The failure then runs through the thousands of compose() stages Reaper.reap built up
      // front, one nested call each: a StackOverflowError that Vert.x swallows, so the pass
      // never completes and Reaper.running stays true. With 400 peers this test passes.)
      cluster.redis(Command.CLIENT, "PAUSE", "700", "WRITE");
      sleep(1200); // past the 700 ms pause and the 300 ms Redis timeout of the leave it held
      // The leave that timed out is skipped (the next pass retries it); the clean-up goes on.

      // Another node dies: its peer g is in a's room.
      String room = room();
      String other = "other-" + UUID.randomUUID().toString().substring(0, 6);
      cluster.redis(Command.EVAL, LIVE_NODE_WITH_PEER, 0, other, room, "g", 60000);
      TestPeer a = cluster.join(0, room, "a");
      assertEquals(List.of("g"), peerIds(a.welcome));
      cluster.redis(Command.DEL, "sb:node:" + other);
      List<JsonObject> got = new ArrayList<>();
      long deadline = System.currentTimeMillis() + 15000;
      while (System.currentTimeMillis() < deadline && got.isEmpty()) {
        got.addAll(drain(a, 100));
      }
      assertTrue(got.stream().anyMatch(j -> "peer-left".equals(j.getString("type")) && "g".equals(j.getString("peer"))),
          "a was not told within 15 s (the big clean-up comes first) that g's node died; got " + got
              + "; is " + other + " still in sb:nodes: " + cluster.redis(Command.ZSCORE, "sb:nodes", other));
      a.close();
    }
  }

  // --- A node that died just before Redis lost its data is never announced as lost ---

  @Test
  @DisplayName("the peers of a node that died just before Redis lost its data are announced as lost")
  void deadNodeForgottenWhenRedisLosesItsData() {
    try (TestCluster cluster = TestCluster.start(1, TestCluster.failureSettings("300ms", "1s"))) {
      String room = room();
      String ghost = "gone-" + UUID.randomUUID().toString().substring(0, 6);
      cluster.redis(Command.EVAL, LIVE_NODE_WITH_PEER, 0, ghost, room, "g", 60000);
      TestPeer a = cluster.join(0, room, "a");
      assertEquals(List.of("g"), peerIds(a.welcome));

      // The node holding g is killed; before its record lapses, Redis restarts empty.
      cluster.redis(Command.FLUSHALL);
      assertTrue(waitFor(3000, () -> cluster.redis(Command.HEXISTS, "sb:{" + room + "}:peers", "a").toInteger() == 1),
          "the live node wrote a back");
      List<JsonObject> got = new ArrayList<>();
      long deadline = System.currentTimeMillis() + 4000;
      while (System.currentTimeMillis() < deadline && got.isEmpty()) {
        got.addAll(drain(a, 100));
      }
      assertTrue(got.stream().anyMatch(j -> "peer-left".equals(j.getString("type")) && "g".equals(j.getString("peer"))),
          "a was never told that g (whose node died) left; got " + got + " within 4 s. Redis now lists "
              + cluster.redis(Command.HKEYS, "sb:{" + room + "}:peers") + " and sb:nodes "
              + cluster.redis(Command.ZRANGE, "sb:nodes", 0, -1) + ": nothing is left for a reaper to find");
      a.close();
    }
  }

  // --- The reap lock outlives the clean-up ---

  @Test
  @DisplayName("a node id reaped once is reaped again promptly when it comes back and dies again")
  void sameNodeIdDyingTwiceIsReapedTwice() {
    try (TestCluster cluster = TestCluster.start(1, TestCluster.failureSettings("300ms", "1s"))) {
      String room = room();
      String node = "flaky-" + UUID.randomUUID().toString().substring(0, 6);
      cluster.redis(Command.EVAL, LIVE_NODE_WITH_PEER, 0, node, room, "g1", 60000);
      TestPeer a = cluster.join(0, room, "a");
      assertEquals(List.of("g1"), peerIds(a.welcome));
      cluster.redis(Command.DEL, "sb:node:" + node);  // it dies: its record lapses
      JsonObject m = a.next(Duration.ofSeconds(3));
      assertEquals("peer-left", m.getString("type"), m.encode());
      assertEquals("node-lost", m.getString("reason"), m.encode());

      // It comes back under the same id (a restart in a crash loop, or a hung node that woke
      // up), a peer joins it, and it dies again a few seconds later.
      cluster.redis(Command.EVAL, LIVE_NODE_WITH_PEER, 0, node, room, "g2", 60000);
      TestPeer c = cluster.join(0, room, "c");
      assertTrue(peerIds(c.welcome).contains("g2"));
      cluster.redis(Command.DEL, "sb:node:" + node);
      List<JsonObject> got = new ArrayList<>();
      long deadline = System.currentTimeMillis() + 4000;
      while (System.currentTimeMillis() < deadline && got.stream().noneMatch(j -> "g2".equals(j.getString("peer"))
          && "peer-left".equals(j.getString("type")))) {
        got.addAll(drain(c, 100));
      }
      assertTrue(got.stream().anyMatch(j -> "g2".equals(j.getString("peer")) && "peer-left".equals(j.getString("type"))),
          "c was not told g2 was lost within 4 s (TTL 1 s, heartbeat 300 ms); got " + got + "; the lock sb:reap:"
              + node + " still has " + cluster.redis(Command.PTTL, "sb:reap:" + node) + " ms to live");
      a.close();
      c.close();
    }
  }
}
