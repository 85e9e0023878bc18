package dev.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.registry.LocalRedis;
import dev.switchboard.testing.NodeProcess;
import dev.switchboard.testing.TestCluster;
import dev.switchboard.testing.TestPeer;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Nodes that die or hang, as separate JVM processes with a real Redis. */
class NodeFailureTest {

  static final Duration HEARTBEAT = Duration.ofMillis(500);
  static final Duration TTL = Duration.ofMillis(1500);

  LocalRedis redisServer;
  Vertx vertx;
  Redis redis;
  WebSocketClient client;
  final List<NodeProcess> nodes = new ArrayList<>();
  /** Every open peer, by node index. */
  final Map<Integer, List<TestPeer>> peersOn = new HashMap<>();
  /** room -> peer -> node index */
  final Map<String, Map<String, Integer>> rooms = new HashMap<>();

  @BeforeEach
  void start() throws Exception {
    redisServer = LocalRedis.start();
    vertx = Vertx.vertx();
    redis = Redis.createClient(vertx, redisServer.url());
    client = TestPeer.client(vertx);
    String cluster = "fail-" + UUID.randomUUID().toString().substring(0, 8);
    int clusterPort = 46000 + ThreadLocalRandom.current().nextInt(300) * 20;
    for (int i = 0; i < 3; i++) {
      nodes.add(NodeProcess.start("f" + i, List.of("--redis-url", redisServer.url(),
          "--cluster-name", cluster, "--cluster-port", Integer.toString(clusterPort),
          "--cluster-members", "127.0.0.1:" + clusterPort,
          "--node-heartbeat", HEARTBEAT.toMillis() + "ms", "--node-heartbeat-ttl", TTL.toMillis() + "ms",
          "--limits-rate", "10000", "--limits-rate-burst", "10000")));
    }
    for (NodeProcess n : nodes) {
      n.awaitHealthy();
    }
    // Three rooms, each spanning the three nodes.
    for (String room : List.of("r1", "r2", "r3")) {
      for (int i = 0; i < 3; i++) {
        int extra = room.equals("r2") && i == 2 ? 2 : 1;
        for (int k = 0; k < extra; k++) {
          String peer = room + "-n" + i + "-" + k;
          TestPeer p = TestPeer.join(client, nodes.get(i).port(), room, peer);
          peersOn.computeIfAbsent(i, x -> new ArrayList<>()).add(p);
          rooms.computeIfAbsent(room, x -> new HashMap<>()).put(peer, i);
        }
      }
    }
    drainAll();
  }

  @AfterEach
  void stop() throws Exception {
    for (NodeProcess n : nodes) {
      n.close();
    }
    redis.close();
    vertx.close().await();
    redisServer.close();
  }

  private void drainAll() throws InterruptedException {
    Thread.sleep(500);
    for (List<TestPeer> ps : peersOn.values()) {
      for (TestPeer p : ps) {
        while (poll(p, 50) != null) {
          // peer-joined of the others
        }
      }
    }
  }

  private static JsonObject poll(TestPeer p, long ms) {
    try {
      return p.next(Duration.ofMillis(ms));
    } catch (AssertionError none) {
      return null;
    }
  }

  private Response redis(Command cmd, Object... args) {
    Request r = Request.cmd(cmd);
    for (Object a : args) {
      r.arg(String.valueOf(a));
    }
    return redis.send(r).await();
  }

  private String roomOf(TestPeer p) {
    return p.welcome.getString("room");
  }

  /** Each surviving peer gets exactly one peer-left node-lost for each lost peer of its room. */
  private void assertLostPeersAnnounced(int deadIndex, long withinMs) throws Exception {
    long deadline = System.currentTimeMillis() + withinMs;
    for (int i = 0; i < 3; i++) {
      if (i == deadIndex) {
        continue;
      }
      for (TestPeer p : peersOn.get(i)) {
        Set<String> expected = new HashSet<>();
        rooms.get(roomOf(p)).forEach((peer, node) -> {
          if (node == deadIndex) {
            expected.add(peer);
          }
        });
        Set<String> got = new HashSet<>();
        while (got.size() < expected.size()) {
          JsonObject m = poll(p, Math.max(1, deadline - System.currentTimeMillis()));
          assertTrue(m != null, p.welcome.getString("peer") + " got " + got + " of " + expected);
          assertEquals("peer-left", m.getString("type"), m.encode());
          assertEquals("node-lost", m.getString("reason"), m.encode());
          assertTrue(got.add(m.getString("peer")), "twice: " + m.encode());
        }
        assertEquals(expected, got);
      }
    }
    for (int i = 0; i < 3; i++) {
      if (i != deadIndex) {
        for (TestPeer p : peersOn.get(i)) {
          p.expectNothing(100);
        }
      }
    }
  }

  /** Redis holds exactly the surviving members, and each live node's load is its open sockets. */
  private void assertRedisMatchesSurvivors(int deadIndex) throws Exception {
    for (Map.Entry<String, Map<String, Integer>> room : rooms.entrySet()) {
      Set<String> expected = new HashSet<>();
      room.getValue().forEach((peer, node) -> {
        if (node != deadIndex) {
          expected.add(peer);
        }
      });
      Set<String> actual = new HashSet<>();
      redis(Command.HKEYS, "sb:{" + room.getKey() + "}:peers").forEach(r -> actual.add(r.toString()));
      assertEquals(expected, actual, "members of " + room.getKey());
      assertEquals(null, redis(Command.HGET, "sb:{" + room.getKey() + "}:nodes", nodes.get(deadIndex).nodeId()));
    }
    String dead = nodes.get(deadIndex).nodeId();
    assertEquals(null, redis(Command.ZSCORE, "sb:nodes", dead));
    assertEquals(0, redis(Command.EXISTS, "sb:node:" + dead, "sb:node:" + dead + ":peers").toInteger());
    for (int i = 0; i < 3; i++) {
      if (i != deadIndex) {
        int open = peersOn.get(i).size();
        assertEquals(open, redis(Command.ZSCORE, "sb:nodes", nodes.get(i).nodeId()).toInteger());
        assertEquals(Integer.toString(open), redis(Command.HGET, "sb:node:" + nodes.get(i).nodeId(), "connections")
            .toString());
      }
    }
  }

  @Test
  @DisplayName("a node killed with SIGKILL: survivors get one peer-left node-lost per lost peer; Redis matches the sockets")
  void killedNode() throws Exception {
    nodes.get(2).kill();
    assertLostPeersAnnounced(2, TTL.toMillis() + HEARTBEAT.toMillis() * 2 + 6000);
    assertRedisMatchesSurvivors(2);
    // A relay to a lost peer fails at once.
    TestPeer p = peersOn.get(0).get(0);
    p.send(new JsonObject().put("type", "offer").put("to", roomOf(p) + "-n2-0").put("sdp", "x").put("id", "z"));
    JsonObject err = p.next(Duration.ofMillis(500));
    assertEquals("peer-not-found", err.getString("code"), err.encode());
  }

  @Test
  @DisplayName("a hung node (SIGSTOP) is reaped like a dead one; woken (SIGCONT), it closes its stale sockets with 1001")
  void hungNode() throws Exception {
    NodeProcess hung = nodes.get(2);
    hung.signal("STOP");
    try {
      assertLostPeersAnnounced(2, TTL.toMillis() + HEARTBEAT.toMillis() * 2 + 6000);
      assertRedisMatchesSurvivors(2);
    } finally {
      hung.signal("CONT");
    }
    for (TestPeer p : peersOn.get(2)) {
      assertEquals(1001, p.awaitClose(), "the woken node closes its stale sockets");
    }
    // The woken node comes back to life with no stale members, and announces nothing.
    long deadline = System.currentTimeMillis() + 5000;
    while (System.currentTimeMillis() < deadline
        && !"0".equals(String.valueOf(redis(Command.HGET, "sb:node:" + hung.nodeId(), "connections")))) {
      Thread.sleep(50);
    }
    assertEquals("0", String.valueOf(redis(Command.HGET, "sb:node:" + hung.nodeId(), "connections")),
        "the woken node is registered again, with no connections");
    for (String room : rooms.keySet()) {
      assertEquals(null, redis(Command.HGET, "sb:{" + room + "}:nodes", hung.nodeId()));
    }
    for (int i = 0; i < 2; i++) {
      for (TestPeer p : peersOn.get(i)) {
        p.expectNothing(100);
      }
    }
    // And it takes new peers again.
    TestPeer fresh = TestPeer.join(client, hung.port(), "r1", "back");
    assertEquals(rooms.get("r1").size() - 1, fresh.welcome.getJsonArray("peers").size());
  }
}
