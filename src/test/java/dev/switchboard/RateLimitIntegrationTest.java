package dev.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.testing.TestCluster;
import dev.switchboard.testing.TestPeer;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The per-connection rate limit over a real socket, with small limits so it is quick to reach. */
class RateLimitIntegrationTest {

  static TestCluster cluster;

  @BeforeAll
  static void start() {
    cluster = TestCluster.start(1, Map.of("limits-rate", "5", "limits-rate-burst", "5",
        "limits-rate-close-after", "1s"));
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  @Test
  @DisplayName("messages over the rate get rate-limited, and a sender that keeps at it is closed with 4429")
  void rateLimitedThenClosed() throws Exception {
    try (TestPeer other = cluster.join(0, "rl-room", "other")) {
      TestPeer flood = cluster.join(0, "rl-room", "flood");
      other.expect("peer-joined");
      int limited = 0;
      int delivered = 0;
      long start = System.currentTimeMillis();
      while (!flood.isClosed() && System.currentTimeMillis() - start < 5000) {
        flood.send(new JsonObject().put("type", "message").put("to", "other").put("data", "x").put("id", "f"));
        Thread.sleep(20);
      }
      assertTrue(flood.isClosed(), "the flooding socket was closed");
      assertEquals(4429, flood.awaitClose());
      JsonObject m;
      while ((m = pollQuiet(flood)) != null) {
        if ("error".equals(m.getString("type"))) {
          assertEquals("rate-limited", m.getString("code"));
          assertEquals("f", m.getString("id"), "the refusal repeats the message's id");
          limited++;
        }
      }
      while ((m = pollQuiet(other)) != null) {
        if ("message".equals(m.getString("type"))) {
          delivered++;
        }
      }
      assertTrue(limited > 10, "refusals: " + limited);
      assertTrue(delivered >= 4 && delivered < 20, "delivered within the budget: " + delivered);
    }
  }

  @Test
  @DisplayName("a sender within the rate is never refused")
  void withinRate() throws Exception {
    try (TestPeer a = cluster.join(0, "ok-room", "a"); TestPeer b = cluster.join(0, "ok-room", "b")) {
      a.expect("peer-joined");
      for (int i = 0; i < 8; i++) {
        b.send(new JsonObject().put("type", "message").put("to", "a").put("data", i));
        Thread.sleep(250);
      }
      for (int i = 0; i < 8; i++) {
        assertEquals(i, a.expect("message").getInteger("data"));
      }
      b.expectNothing(100);
    }
  }

  private static JsonObject pollQuiet(TestPeer p) {
    try {
      return p.next(java.time.Duration.ofMillis(200));
    } catch (AssertionError e) {
      return null;
    }
  }
}
