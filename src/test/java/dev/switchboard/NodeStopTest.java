package dev.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.switchboard.testing.TestCluster;
import dev.switchboard.testing.TestPeer;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** A node that stops cleanly takes its peers out of their rooms before it leaves the cluster. */
class NodeStopTest {

  @Test
  @DisplayName("stopping a node closes its sockets with 1001, and the others see its peers leave")
  void cleanStop() {
    try (TestCluster cluster = TestCluster.start(2, Map.of())) {
      TestPeer stays = cluster.join(0, "stop-room", "stays");
      TestPeer goes = cluster.join(1, "stop-room", "goes");
      stays.expect("peer-joined");
      cluster.node(1).stop().await();
      assertEquals(1001, goes.awaitClose());
      JsonObject left = stays.expect("peer-left");
      assertEquals("goes", left.getString("peer"));
      assertEquals(1, cluster.redis(Command.HLEN, "sb:{stop-room}:peers").toInteger());
      assertEquals(null, cluster.redis(Command.ZSCORE, "sb:nodes", cluster.node(1).nodeId()));
      assertEquals(0, cluster.redis(Command.EXISTS, "sb:node:" + cluster.node(1).nodeId()).toInteger());
      assertEquals(1, cluster.redis(Command.EXISTS, "sb:node:" + cluster.node(0).nodeId()).toInteger());
      stays.send(new JsonObject().put("type", "offer").put("to", "goes").put("sdp", "x"));
      assertEquals("peer-not-found", stays.expect("error").getString("code"));
    }
  }
}
