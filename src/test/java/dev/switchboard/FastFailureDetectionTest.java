package dev.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.registry.LocalRedis;
import dev.switchboard.testing.NodeProcess;
import dev.switchboard.testing.TestPeer;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * How soon the survivors of a killed node know, with the default heartbeat (2 s) and record TTL
 * (6 s): node processes, SIGKILL, real sockets. The cluster's member list notices a killed node
 * first, so the TTL (at least 6 s after the last heartbeat, plus up to a heartbeat for the sweep)
 * is only the backstop. Prints the figures; the bounds asserted are what the TTL alone could
 * never meet, with room for a slow machine.
 */
class FastFailureDetectionTest {

  static final int ROOMS = 10;

  LocalRedis redisServer;
  Vertx vertx;
  WebSocketClient client;
  final List<NodeProcess> nodes = new ArrayList<>();

  @BeforeEach
  void startRedis() throws Exception {
    redisServer = LocalRedis.start();
    vertx = Vertx.vertx();
    client = TestPeer.client(vertx);
  }

  @AfterEach
  void stop() throws Exception {
    for (NodeProcess n : nodes) {
      n.close();
    }
    vertx.close().await();
    redisServer.close();
  }

  private void startNodes(int count) throws Exception {
    String cluster = "ffd-" + UUID.randomUUID().toString().substring(0, 8);
    int clusterPort = 41000 + ThreadLocalRandom.current().nextInt(200) * 20;
    for (int i = 0; i < count; i++) {
      nodes.add(NodeProcess.start("d" + i, List.of("--redis-url", redisServer.url(), "--cluster-name", cluster,
          "--cluster-port", Integer.toString(clusterPort), "--cluster-members", "127.0.0.1:" + clusterPort)));
    }
    for (NodeProcess n : nodes) {
      n.awaitHealthy();
    }
  }

  /**
   * {@link #ROOMS} rooms with one peer on each node; kills the last node; returns how long after
   * the kill each surviving peer heard {@code peer-left node-lost} for its room's peer there.
   */
  private List<Long> killLastNodeAndTime() throws Exception {
    int last = nodes.size() - 1;
    List<TestPeer> survivors = new ArrayList<>();
    for (int r = 0; r < ROOMS; r++) {
      for (int i = 0; i < nodes.size(); i++) {
        TestPeer p = TestPeer.join(client, nodes.get(i).port(), "room-" + r, "p" + i + "-" + r);
        if (i != last) {
          survivors.add(p);
        }
      }
    }
    for (TestPeer p : survivors) {
      int others = p.welcome.getJsonArray("peers").size();
      for (int k = others; k < nodes.size() - 1; k++) {
        assertEquals("peer-joined", p.expect("peer-joined").getString("type"));
      }
    }
    long killed = System.nanoTime();
    nodes.get(last).kill();
    List<Long> ms = new ArrayList<>();
    for (TestPeer p : survivors) {
      JsonObject left = p.next(Duration.ofSeconds(15));
      ms.add((System.nanoTime() - killed) / 1_000_000);
      assertEquals("peer-left", left.getString("type"), left.encode());
      assertEquals("node-lost", left.getString("reason"), left.encode());
      assertEquals("p" + last + "-" + p.welcome.getString("room").substring(5), left.getString("peer"));
    }
    for (TestPeer p : survivors) {
      p.expectNothing(200); // exactly once
    }
    String dead = nodes.get(last).nodeId();
    Redis redis = Redis.createClient(vertx, redisServer.url());
    assertEquals(0, redis.send(Request.cmd(Command.EXISTS).arg("sb:node:" + dead).arg("sb:node:" + dead + ":peers"))
        .await().toInteger(), "the dead node's record and peer set are gone");
    redis.close();
    return ms.stream().sorted().toList();
  }

  private static String summary(List<Long> sorted) {
    return String.format(Locale.ROOT, "p50 %d ms, max %d ms over %d peers", sorted.get(sorted.size() / 2),
        sorted.get(sorted.size() - 1), sorted.size());
  }

  @Test
  @DisplayName("SIGKILL of one node of three: every survivor hears node-lost in well under the record's TTL")
  void oneOfThree() throws Exception {
    startNodes(3);
    List<Long> ms = killLastNodeAndTime();
    System.out.println("fast failure detection, 1 of 3 nodes killed, default settings: " + summary(ms));
    // The member list notices at once and a majority remains: no wait for a heartbeat (about
    // half a second here). The TTL path cannot take less than 6 s.
    assertTrue(ms.get(ms.size() - 1) < 3000, summary(ms));
  }

  @Test
  @DisplayName("SIGKILL of one node of two: the survivor, no majority, reaps once the heartbeat has stopped")
  void oneOfTwo() throws Exception {
    startNodes(2);
    List<Long> ms = killLastNodeAndTime();
    System.out.println("fast failure detection, 1 of 2 nodes killed, default settings: " + summary(ms));
    // Reaper.MAX_BEAT_WAIT_MS (1.5 s) after the member list noticed; the TTL path takes 6 to 8 s.
    assertTrue(ms.get(ms.size() - 1) < 4000, summary(ms));
  }
}
