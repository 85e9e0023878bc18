package dev.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.testing.TestCluster;
import dev.switchboard.testing.TestPeer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The ordering promises that clients build their negotiation on, checked 50 times each. */
class JoinOrderingTest {

  static TestCluster cluster;

  @BeforeAll
  static void start() {
    cluster = TestCluster.start(2, Map.of("limits-rate", "100000", "limits-rate-burst", "100000"));
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  @Test
  @DisplayName("two peers on different nodes joining a new room at once: exactly one sees the other in welcome")
  void simultaneousJoins() {
    for (int round = 0; round < 50; round++) {
      String room = "race-" + round + "-" + System.nanoTime();
      TestPeer a = cluster.connect(0);
      TestPeer b = cluster.connect(1);
      JsonObject joinA = new JsonObject().put("type", "join").put("room", room).put("peer", "a");
      JsonObject joinB = new JsonObject().put("type", "join").put("room", room).put("peer", "b");
      CompletableFuture<Void> sa = CompletableFuture.runAsync(() -> a.send(joinA));
      CompletableFuture<Void> sb = CompletableFuture.runAsync(() -> b.send(joinB));
      sa.join();
      sb.join();
      JsonArray peersA = a.expect("welcome").getJsonArray("peers");
      JsonArray peersB = b.expect("welcome").getJsonArray("peers");
      assertEquals(1, peersA.size() + peersB.size(), "round " + round + ": exactly one lists the other");
      TestPeer first = peersA.isEmpty() ? a : b;
      TestPeer second = first == a ? b : a;
      JsonArray listed = first == a ? peersB : peersA;
      assertEquals(first == a ? "a" : "b", listed.getJsonObject(0).getString("peer"));
      JsonObject joined = first.expect("peer-joined");
      assertEquals(second == a ? "a" : "b", joined.getString("peer"));
      second.expectNothing(50);
      a.close();
      b.close();
    }
  }

  @Test
  @DisplayName("a newcomer's first message never reaches a member before that member's peer-joined, across nodes")
  void peerJoinedBeforeFirstMessage() {
    for (int round = 0; round < 50; round++) {
      String room = "order-" + round + "-" + System.nanoTime();
      int memberNode = round % 2;
      try (TestPeer member = cluster.join(memberNode, room, "member");
           TestPeer local = cluster.join(memberNode, room, "local")) {
        member.expect("peer-joined");
        // The newcomer offers the moment it has its welcome, as a browser client does.
        TestPeer newcomer = cluster.join(1 - memberNode, room, "newcomer");
        assertTrue(newcomer.welcome.getJsonArray("peers").size() == 2);
        newcomer.send(new JsonObject().put("type", "offer").put("to", "member").put("sdp", "o" + round));
        newcomer.send(new JsonObject().put("type", "message").put("data", "hi" + round));
        JsonObject first = member.next();
        assertEquals("peer-joined", first.getString("type"), "round " + round + ": " + first.encode());
        assertEquals("newcomer", first.getString("peer"));
        assertEquals("offer", member.expect("offer").getString("type"));
        assertEquals("hi" + round, member.expect("message").getString("data"));
        assertEquals("peer-joined", local.expect("peer-joined").getString("type"));
        assertEquals("hi" + round, local.expect("message").getString("data"));
        newcomer.close();
      }
    }
  }

  @Test
  @DisplayName("a newcomer on the same node as the member is ordered the same way")
  void peerJoinedBeforeFirstMessageSameNode() {
    for (int round = 0; round < 50; round++) {
      String room = "local-" + round + "-" + System.nanoTime();
      try (TestPeer member = cluster.join(0, room, "member")) {
        TestPeer newcomer = cluster.join(0, room, "newcomer");
        newcomer.send(new JsonObject().put("type", "offer").put("to", "member").put("sdp", "o"));
        assertEquals("peer-joined", member.next().getString("type"), "round " + round);
        assertEquals("offer", member.expect("offer").getString("type"));
        newcomer.close();
      }
    }
  }
}
