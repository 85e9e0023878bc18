package dev.switchboard.room;

import static dev.switchboard.room.InMemoryCluster.offer;
import static dev.switchboard.room.InMemoryCluster.peersOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.protocol.CloseCode;
import dev.switchboard.room.InMemoryCluster.Client;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The room rules of two nodes in one JVM (no Redis, no Hazelcast), over a store whose answers
 * the test releases: what the protocol promises about joins, relays, leaves and their order.
 */
class RoomRulesTest {

  private final InMemoryCluster cluster = new InMemoryCluster("A", "B");
  private final ScriptedStore store = cluster.store;

  @AfterEach
  void stop() {
    cluster.close();
  }

  @Test
  @DisplayName("peers on two nodes: welcome, peer-joined, a relay with from stamped, and its ack")
  void relayAcrossNodes() {
    store.autoRelease();
    Client alice = cluster.node("A").join("room", "alice");
    Client bob = cluster.node("B").join("room", "bob");
    assertEquals(List.of("alice"), peersOf(bob.welcome));
    assertEquals("bob", alice.expect("peer-joined").getString("peer"));
    bob.send(offer("alice", "v=0", "o1"));
    JsonObject got = alice.expect("offer");
    assertEquals(List.of("bob", "v=0"), List.of(got.getString("from"), got.getString("sdp")));
    assertEquals("o1", bob.expect("ack").getString("id"));
  }

  @Test
  @DisplayName("two joins at the same moment: the one the store ran second lists the other; the other gets peer-joined")
  void simultaneousJoins() {
    Client alice = cluster.node("A").connect();
    Client bob = cluster.node("B").connect();
    alice.join("room", "alice");
    bob.join("room", "bob");
    ScriptedStore.Step aliceJoin = store.await("join", "alice");
    ScriptedStore.Step bobJoin = store.await("join", "bob");
    // The store runs bob's join first, though alice asked first.
    bobJoin.release();
    aliceJoin.release();
    store.autoRelease();
    assertEquals(List.of(), peersOf(bob.expect("welcome")));
    assertEquals(List.of("bob"), peersOf(alice.expect("welcome")));
    assertEquals("alice", bob.expect("peer-joined").getString("peer"));
    assertEquals(List.of(), alice.settled(), "alice already knows bob from her welcome");
  }

  @Test
  @DisplayName("a newcomer's peer-joined reaches a member before the newcomer's offer, however slow the link")
  void peerJoinedBeforeOfferOnSlowLink() {
    store.autoRelease();
    Client alice = cluster.node("A").join("room", "alice");
    cluster.node("B").hold("A");
    Client bob = cluster.node("B").join("room", "bob");
    bob.send(offer("alice", "v=0", "o1"));
    cluster.settle();
    assertEquals(List.of(), alice.settled(), "nothing crosses the held link");
    cluster.node("B").release("A");
    assertEquals("peer-joined", alice.next().getString("type"));
    assertEquals("offer", alice.next().getString("type"));
    assertEquals("o1", bob.expect("ack").getString("id"));
  }

  @Test
  @DisplayName("a relay to a peer that left is answered peer-not-found, and the leaver's peers hear peer-left")
  void relayToLeftPeer() {
    store.autoRelease();
    Client alice = cluster.node("A").join("room", "alice");
    Client bob = cluster.node("B").join("room", "bob");
    alice.expect("peer-joined");
    bob.send(new JsonObject().put("type", "leave"));
    JsonObject left = alice.expect("peer-left");
    assertEquals(List.of("bob", "left"), List.of(left.getString("peer"), left.getString("reason")));
    alice.send(offer("bob", "v=0", "o2"));
    JsonObject error = alice.expect("error");
    assertEquals(List.of("peer-not-found", "o2"), List.of(error.getString("code"), error.getString("id")));
    assertEquals(Set.of("alice"), store.members("room"));
  }

  @Test
  @DisplayName("a relay in flight when its target leaves gets exactly one answer: peer-not-found")
  void relayRacingALeave() {
    store.autoRelease();
    Client alice = cluster.node("A").join("room", "alice");
    Client bob = cluster.node("B").join("room", "bob");
    alice.expect("peer-joined");
    // alice's offer waits on the link while bob leaves on his own node.
    cluster.node("A").hold("B");
    alice.send(offer("bob", "v=0", "o3"));
    cluster.settle();
    bob.send(new JsonObject().put("type", "leave"));
    alice.expect("peer-left");
    cluster.node("A").release("B");
    JsonObject answer = alice.expect("error");
    assertEquals(List.of("peer-not-found", "o3"), List.of(answer.getString("code"), answer.getString("id")));
    assertEquals(List.of(), alice.settled(), "one answer, not two");
  }

  @Test
  @DisplayName("a relay awaiting the answer of a node that left the cluster is answered unavailable at once, not at its timeout")
  void relayToNodeThatLeft() {
    store.autoRelease();
    Client alice = cluster.node("A").join("room", "alice");
    cluster.node("B").join("room", "bob");
    alice.expect("peer-joined");
    cluster.crash("B"); // what is sent to it from now on is lost: no answer will come
    alice.send(offer("bob", "v=0", "o9"));
    cluster.settle();
    cluster.kill("B"); // the cluster notices
    long start = System.nanoTime();
    cluster.node("A").sessions.nodeLost("B");
    JsonObject error = alice.expect("error");
    long ms = (System.nanoTime() - start) / 1_000_000;
    assertEquals(List.of("unavailable", "o9"), List.of(error.getString("code"), error.getString("id")));
    assertTrue(error.getString("message").contains("left the cluster"), error.encode());
    assertTrue(ms < 1000, "at once, not after the 2 s ack timeout: " + ms + " ms");
    assertEquals(List.of(), alice.settled(), "one answer");
  }

  @Test
  @DisplayName("a join the store does not answer is refused unavailable (4503) and undone in the store")
  void joinWithoutAnswer() {
    Client alice = cluster.node("A").connect();
    alice.join("room", "alice");
    store.await("join", "alice").fail();
    JsonObject error = alice.expect("error");
    assertEquals("unavailable", error.getString("code"));
    cluster.settle();
    assertEquals(CloseCode.UNAVAILABLE, alice.closeCode);
    assertEquals("leave", store.await("leave", "alice").name, "the join may have run: it is undone");
    assertEquals(0, cluster.node("A").sessions.active());
    assertEquals(0, cluster.node("A").rooms.size());
  }

  @Test
  @DisplayName("the same peer id twice on one node is refused 4409 without asking the store")
  void peerIdTakenLocally() {
    store.autoRelease();
    cluster.node("A").join("room", "alice");
    Client again = cluster.node("A").connect();
    again.join("room", "alice");
    assertEquals("peer-id-taken", again.expect("error").getString("code"));
    cluster.settle();
    assertEquals(CloseCode.PEER_ID_TAKEN, again.closeCode);
  }

  @Test
  @DisplayName("a state change reaches the other node's members as peer-state, and is acked")
  void stateAcrossNodes() {
    store.autoRelease();
    Client alice = cluster.node("A").join("room", "alice");
    Client bob = cluster.node("B").join("room", "bob");
    alice.expect("peer-joined");
    bob.send(new JsonObject().put("type", "state").put("audio", false).put("id", "s1"));
    JsonObject state = alice.expect("peer-state");
    assertEquals(false, state.getJsonObject("state").getBoolean("audio"));
    assertEquals("s1", bob.expect("ack").getString("id"));
  }

  @Test
  @DisplayName("a room-wide message reaches every other member on both nodes, and never its sender")
  void roomWide() {
    store.autoRelease();
    Client alice = cluster.node("A").join("room", "alice");
    Client carol = cluster.node("A").join("room", "carol");
    Client bob = cluster.node("B").join("room", "bob");
    alice.settled();
    carol.settled();
    bob.send(new JsonObject().put("type", "message").put("data", 7).put("id", "m1"));
    assertEquals("m1", bob.expect("ack").getString("id"));
    assertEquals(7, alice.expect("message").getInteger("data"));
    assertEquals(7, carol.expect("message").getInteger("data"));
    assertEquals(List.of(), bob.settled());
  }

  @Test
  @DisplayName("a drain envelope reaches only the node it names")
  void drainReachesItsNode() {
    cluster.node("A").router.send("B", new dev.switchboard.cluster.Envelope.Drain());
    cluster.settle();
    assertEquals(List.of(0, 1), List.of(cluster.node("A").drains, cluster.node("B").drains));
  }

  @Test
  @DisplayName("a stopping node's wait for its sessions ends when the last leave is written, not on a timer")
  void idleWhenLastLeaveLands() throws Exception {
    Client alice = cluster.node("A").connect();
    alice.join("room", "alice");
    store.await("join", "alice").release();
    alice.expect("welcome");
    io.vertx.core.Future<Void> idle = cluster.node("A").sessions.whenIdle(60_000);
    alice.send(new JsonObject().put("type", "leave"));
    ScriptedStore.Step leave = store.await("leave", "alice");
    assertTrue(!idle.isComplete(), "not idle while the leave is in flight");
    leave.release();
    idle.await(5, java.util.concurrent.TimeUnit.SECONDS);
    assertTrue(idle.succeeded());
  }

  @Test
  @DisplayName("after the store lost its data, a member written back learns of who joined meanwhile, and they of it")
  void restoreResyncsBothWays() throws Exception {
    store.autoRelease();
    store.live("A", "B");
    Client alice = cluster.node("A").join("room", "alice");
    Client bob = cluster.node("B").join("room", "bob");
    assertEquals("bob", alice.expect("peer-joined").getString("peer"));
    store.loseData();
    store.live("A", "B");
    cluster.node("A").recovery.restore().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    // carol joins while bob is missing from the store: her welcome cannot list him.
    Client carol = cluster.node("A").join("room", "carol");
    assertEquals(List.of("alice"), peersOf(carol.welcome));
    assertEquals("carol", alice.expect("peer-joined").getString("peer"));
    cluster.node("B").recovery.restore().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    assertEquals("bob", carol.expect("peer-joined").getString("peer"));
    assertEquals("carol", bob.expect("peer-joined").getString("peer"));
    assertEquals(List.of(), alice.settled(), "alice knew bob all along: no second peer-joined");
    alice.send(offer("bob", "v=0", "o1"));
    assertEquals("offer", bob.expect("offer").getString("type"));
    assertEquals("o1", alice.expect("ack").getString("id"));
    assertEquals(Set.of("alice", "bob", "carol"), store.members("room"));
  }

  @Test
  @DisplayName("members of a node that died before the store lost its data are announced lost, once, to each node's members")
  void deadNodeForgottenAfterDataLoss() throws Exception {
    store.autoRelease();
    store.live("A", "B");
    Client alice = cluster.node("A").join("room", "alice");
    cluster.node("B").join("room", "ghost");
    alice.expect("peer-joined");
    cluster.kill("B");
    store.loseData();
    store.live("A");
    cluster.node("A").recovery.restore().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    JsonObject left = alice.expect("peer-left");
    assertEquals(List.of("ghost", "node-lost"), List.of(left.getString("peer"), left.getString("reason")));
    assertEquals(0, cluster.node("A").recovery.forgetDeadNodes().toCompletionStage().toCompletableFuture()
        .get(5, TimeUnit.SECONDS), "nothing left to forget the second time");
    assertEquals(List.of(), alice.settled());
  }

  @Test
  @DisplayName("a silent node that is still in the cluster is not declared dead after the store lost its data")
  void silentButPresentNodeKept() throws Exception {
    store.autoRelease();
    store.live("A", "B");
    Client alice = cluster.node("A").join("room", "alice");
    cluster.node("B").join("room", "bob");
    alice.expect("peer-joined");
    store.loseData();
    store.live("A"); // B's heartbeat is slower than A's TTL: no record yet, but B is there
    cluster.node("A").recovery.restore().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    assertEquals(0, cluster.node("A").recovery.forgetDeadNodes().toCompletionStage().toCompletableFuture()
        .get(5, TimeUnit.SECONDS));
    assertEquals(List.of(), alice.settled());
  }
}
