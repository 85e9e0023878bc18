package dev.switchboard.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.testing.TestCluster;
import dev.switchboard.testing.TestPeer;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * A rolling update's first step: a node writing the previous node-to-node format (version 1,
 * the first release's) beside a node writing the current one, in one real cluster. Every kind of
 * envelope crosses in both directions and signaling is what it is between two current nodes.
 */
class MixedWireVersionsTest {

  private static JsonObject offer(String to, String id) {
    return new JsonObject().put("type", "offer").put("to", to).put("sdp", "v=0").put("id", id);
  }

  @Test
  @DisplayName("a node writing version 1 and one writing version 2 signal to each other in both directions")
  void previousBesideCurrent() {
    try (TestCluster cluster = TestCluster.start(1, Map.of("cluster-wire-version", "1"))) {
      cluster.addNode(Map.of());
      TestPeer a = cluster.join(0, "mixed", "a");
      TestPeer b = cluster.join(1, "mixed", "b");
      assertEquals(List.of("a"), b.welcome.getJsonArray("peers").stream()
          .map(p -> ((JsonObject) p).getString("peer")).toList());
      assertEquals("b", a.expect("peer-joined").getString("peer"));

      a.send(offer("b", "a1"));
      assertEquals("a", b.expect("offer").getString("from"));
      assertEquals("a1", a.expect("ack").getString("id"));
      b.send(offer("a", "b1"));
      assertEquals("b", a.expect("offer").getString("from"));
      assertEquals("b1", b.expect("ack").getString("id"));

      b.send(new JsonObject().put("type", "state").put("video", false).put("id", "s"));
      assertEquals("s", b.expect("ack").getString("id"));
      assertEquals(false, a.expect("peer-state").getJsonObject("state").getBoolean("video"));
      a.send(new JsonObject().put("type", "message").put("data", "hi"));
      assertEquals("hi", b.expect("message").getString("data"));
      a.send(offer("nobody", "a2"));
      assertEquals("peer-not-found", a.expect("error").getString("code"));

      b.send(new JsonObject().put("type", "leave"));
      assertEquals("b", a.expect("peer-left").getString("peer"));

      NodeChannel previous = cluster.node(0).channel();
      NodeChannel current = cluster.node(1).channel();
      assertTrue(current.legacyBatches() > 0, "node 1 read node 0's version-1 batches");
      assertEquals(0, previous.legacyBatches(), "node 0 read version 2 from node 1");
      assertEquals(List.of(0L, 0L, 0L, 0L), List.of(previous.gaps(), current.gaps(), previous.skippedEntries(),
          current.skippedEntries()));
      a.close();
      b.close();
    }
  }
}
