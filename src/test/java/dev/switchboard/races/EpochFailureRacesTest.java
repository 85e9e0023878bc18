package dev.switchboard.races;

import static dev.switchboard.testing.Waits.drain;
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
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Redis loses its data (a restart without persistence; FLUSHALL here) under live rooms. */
class EpochFailureRacesTest {

  @Test
  @DisplayName("a join on a node that has written its members back, before another node has, neither hides "
      + "that node's members from the newcomer nor cuts the room's members off from them")
  void joinBetweenTwoNodesRestores() {
    // Node 0 notices the new epoch within 300 ms. Node 1 beats every 20 s, so it notices only
    // when one of its sockets opens or closes: the window between the two restores, which is
    // up to one heartbeat (2 s by default) in production, is held open for the test.
    try (TestCluster cluster = TestCluster.start(1, TestCluster.failureSettings("300ms", "1s"))) {
      cluster.addNode(TestCluster.failureSettings("20s", "60s"));
      String room = "epoch-" + UUID.randomUUID().toString().substring(0, 8);
      String peers = "sb:{" + room + "}:peers";
      TestPeer a = cluster.join(0, room, "a");
      TestPeer b = cluster.join(1, room, "b");
      assertEquals("b", a.expect("peer-joined").getString("peer"));

      cluster.redis(Command.FLUSHALL);
      assertTrue(waitFor(3000, () -> cluster.redis(Command.HEXISTS, peers, "a").toInteger() == 1),
          "node 0 wrote a back");
      // c joins through node 0, which knows the new epoch: the join script lets it in.
      TestPeer c = cluster.join(0, room, "c");
      assertEquals(0, cluster.redis(Command.HEXISTS, peers, "b").toInteger(), "precondition: b is not written back yet");
      assertEquals("c", a.expect("peer-joined").getString("peer"));

      // Node 1 notices (a socket opens on it) and writes b back. Redis now matches the sockets.
      TestPeer probe = cluster.connect(1);
      assertTrue(waitFor(3000, () -> cluster.redis(Command.HEXISTS, peers, "b").toInteger() == 1),
          "node 1 wrote b back");

      // a was never told that b left: its offer to b must reach b.
      a.send(new JsonObject().put("type", "offer").put("to", "b").put("sdp", "x").put("id", "o1"));
      JsonObject answer = a.next(Duration.ofSeconds(3));
      List<JsonObject> toB = drain(b, 300);
      List<JsonObject> toC = drain(c, 300);
      boolean cKnowsB = c.welcome.getJsonArray("peers").stream().anyMatch(p -> "b".equals(((JsonObject) p).getString("peer")))
          || toC.stream().anyMatch(m -> "peer-joined".equals(m.getString("type")) && "b".equals(m.getString("peer")));
      boolean bKnowsC = toB.stream().anyMatch(m -> "peer-joined".equals(m.getString("type")) && "c".equals(m.getString("peer")));
      assertTrue("ack".equals(answer.getString("type")) && cKnowsB && bKnowsC,
          "room in Redis " + cluster.redis(Command.HKEYS, peers) + ": a's offer to b got " + answer.encode()
              + "; b got " + toB + " (never peer-joined c); newcomer c's welcome " + c.welcome.getJsonArray("peers")
              + ", then " + toC + " (c never hears of b)");
      probe.close();
      a.close();
      b.close();
      c.close();
    }
  }
}
