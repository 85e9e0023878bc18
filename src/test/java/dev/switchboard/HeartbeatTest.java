package dev.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.transport.Refusal;
import dev.switchboard.testing.RawSocketPeer;
import dev.switchboard.testing.TestCluster;
import dev.switchboard.testing.TestPeer;
import dev.switchboard.testing.Waits;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * WebSocket ping heartbeats across two nodes: a client that stops answering is cleaned up in
 * bounded time and its room hears {@code peer-left} with reason {@code timeout}; a quiet client
 * whose WebSocket layer answers pings stays.
 */
class HeartbeatTest {

  private static final long PING_MS = 200;
  private static final long PONG_TIMEOUT_MS = 1000;
  private static TestCluster cluster;

  @BeforeAll
  static void start() {
    cluster = TestCluster.start(2, Map.of(
        "limits-ping-interval", PING_MS + "ms",
        "limits-pong-timeout", PONG_TIMEOUT_MS + "ms"));
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  @Test
  @DisplayName("a client that stops answering pings leaves with reason timeout within pong-timeout + ping-interval + 1 s")
  void silentClientTimesOut() throws Exception {
    try (TestPeer alice = cluster.join(0, "hb1", "alice");
         RawSocketPeer bob = RawSocketPeer.connect(cluster.port(1))) {
      long timeouts = cluster.node(1).refusals().get(Refusal.PONG_TIMEOUT);
      // bob joins, then answers nothing: no pong, no close, as if its host vanished.
      bob.sendText(new JsonObject().put("type", "join").put("room", "hb1").put("peer", "bob").encode());
      assertEquals("bob", alice.expect("peer-joined").getString("peer"));
      long start = System.nanoTime();
      JsonObject left = alice.next(Duration.ofMillis(PONG_TIMEOUT_MS + PING_MS + 3000));
      long tookMs = (System.nanoTime() - start) / 1_000_000;
      System.out.printf("heartbeat: silent peer reported after %d ms (pong timeout %d ms, ping every %d ms)%n",
          tookMs, PONG_TIMEOUT_MS, PING_MS);
      assertEquals("peer-left", left.getString("type"), left.encode());
      assertEquals("bob", left.getString("peer"));
      assertEquals("timeout", left.getString("reason"));
      assertTrue(tookMs >= PONG_TIMEOUT_MS - 50, "not before the pong timeout: " + tookMs + "ms");
      assertTrue(tookMs <= PONG_TIMEOUT_MS + PING_MS + 1000, "bounded: " + tookMs + "ms");
      assertEquals(timeouts + 1, cluster.node(1).refusals().get(Refusal.PONG_TIMEOUT));
      // The peer is gone from the node, and the node ends the TCP connection (after the close
      // handshake's own timeout, as the client never answers the close frame either).
      assertTrue(Waits.waitFor(3000, () -> cluster.node(1).sessions().active() == 0));
      assertTrue(Waits.waitFor(15_000, bob::serverClosed), "the node drops the dead connection");
    }
  }

  @Test
  @DisplayName("an idle client that answers pings stays joined for five pong timeouts")
  void idleClientStays() {
    try (TestPeer carol = cluster.join(0, "hb2", "carol");
         TestPeer dave = cluster.join(1, "hb2", "dave")) {
      carol.expect("peer-joined");
      carol.expectNothing(5 * PONG_TIMEOUT_MS);
      assertFalse(dave.isClosed());
      dave.send(new JsonObject().put("type", "message").put("to", "carol").put("data", "still here"));
      assertEquals("still here", carol.expect("message").getString("data"));
    }
  }
}
