package dev.switchboard.room;

import static dev.switchboard.room.InMemoryCluster.offer;
import static dev.switchboard.room.InMemoryCluster.peersOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.room.InMemoryCluster.Client;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Resume through another node, in one JVM: the node the client comes back to claims the session
 * from the node that held it, which hands it over and forwards what still reaches it; senders
 * fence their first message after the move, so nothing overtakes what they sent before. The
 * links between nodes can be held, so each race is a script.
 */
class HandoffRulesTest {

  private final InMemoryCluster cluster = new InMemoryCluster(
      List.of("--limits-resume-window", "800ms", "--limits-resume-buffer", "8"), "A", "B", "C");

  @AfterEach
  void stop() {
    cluster.close();
  }

  /** What reached {@code sender} since: exactly one answer for each of {@code ids}, every one an ack. */
  private static void assertAckedOnce(Client sender, String... ids) {
    List<String> answers = sender.settled().stream().map(f -> f.getString("type") + " " + f.getString("id")).sorted()
        .toList();
    assertEquals(java.util.Arrays.stream(ids).map(id -> "ack " + id).sorted().toList(), answers);
  }

  private static JsonObject message(String to, int n) {
    return new JsonObject().put("type", "message").put("to", to).put("data", n);
  }

  @Test
  @DisplayName("through another node: same identity, held messages in order, acked once held; no churn; moved in the store")
  void resumeThroughAnotherNode() {
    Client[] ab = cluster.aliceAndBob();
    Client alice = ab[0];
    Client bob = ab[1];
    bob.drop();
    alice.send(offer("bob", "sdp-1", "o1"));
    alice.send(message("bob", 2));
    alice.send(new JsonObject().put("type", "message").put("data", 3)); // room-wide
    assertEquals("o1", alice.expect("ack").getString("id"), "acked once held");
    Client back = bob.resume(cluster.node("B"));
    JsonObject welcome = back.expect("welcome");
    assertEquals(true, welcome.getBoolean("resumed"));
    assertEquals("bob", welcome.getString("peer"));
    assertEquals("B", welcome.getString("node"));
    assertEquals(List.of("alice"), peersOf(welcome));
    assertNotEquals(bob.welcome.getString("resume"), welcome.getString("resume"), "a new token");
    assertEquals("sdp-1", back.expect("offer").getString("sdp"));
    assertEquals(2, back.expect("message").getInteger("data"));
    assertEquals(3, back.expect("message").getInteger("data"));
    assertEquals(List.of(), alice.settled(), "alice saw no peer-left, no peer-joined, no second ack");
    assertEquals("B", cluster.store.member("room", "bob").getString("node"), "the store says where bob is now");
    // Both ways from the new node; alice's view routes to B directly.
    back.send(offer("alice", "sdp-2", "o2"));
    assertEquals("sdp-2", alice.expect("offer").getString("sdp"));
    assertEquals("o2", back.expect("ack").getString("id"));
    alice.send(offer("bob", "sdp-3", "o3"));
    assertEquals("sdp-3", back.expect("offer").getString("sdp"));
    assertEquals("o3", alice.expect("ack").getString("id"));
    assertEquals(List.of(), bob.settled(), "nothing reaches the old socket");
  }

  @Test
  @DisplayName("a message on its way to the old node when the peer moves arrives before the sender's next one, answered once")
  void fenceKeepsOrderAcrossTheMove() {
    Client[] ab = cluster.aliceAndBob();
    Client alice = ab[0];
    Client bob = ab[1];
    cluster.node("C").hold("A"); // what alice sends to A waits on the way
    alice.send(offer("bob", "before", "o1"));
    Client back = bob.resume(cluster.node("B")); // bob had not dropped: its old socket is taken from it
    assertEquals(true, back.expect("welcome").getBoolean("resumed"));
    cluster.settle();
    alice.send(offer("bob", "after", "o2")); // alice knows bob moved: a fence goes to A (behind o1), o2 to B
    cluster.settle();
    assertEquals(List.of(), back.settled(), "o2 waits at B for alice's fence to come through A");
    cluster.node("C").release("A");
    assertEquals("before", back.expect("offer").getString("sdp"));
    assertEquals("after", back.expect("offer").getString("sdp"));
    assertAckedOnce(alice, "o1", "o2");
  }

  @Test
  @DisplayName("a fence that never comes (its node died) holds the sender's messages no longer than the gate's limit")
  void fenceFromADeadNodeOpens() {
    Client[] ab = cluster.aliceAndBob();
    Client alice = ab[0];
    Client bob = ab[1];
    Client back = bob.resume(cluster.node("B"));
    assertEquals(true, back.expect("welcome").getBoolean("resumed"));
    cluster.settle();
    cluster.node("C").hold("A"); // the fence to A will wait
    alice.send(offer("bob", "after", "o2"));
    cluster.settle();
    assertEquals(List.of(), back.settled());
    cluster.node("B").sessions.nodeLost("A"); // A left the cluster: nothing will come through it
    assertEquals("after", back.expect("offer").getString("sdp"));
    assertEquals("o2", alice.expect("ack").getString("id"));
  }

  @Test
  @DisplayName("through another node, forged, used, another peer's and another room's tokens are refused 4409; the window runs on")
  void badTokensThroughAnotherNode() throws Exception {
    Client[] ab = cluster.aliceAndBob();
    Client alice = ab[0];
    Client bob = ab[1];
    Client other = cluster.node("C").join("other-room", "bob"); // a bob elsewhere, with a token of its own
    String used = bob.welcome.getString("resume");
    bob.drop();
    Client back = bob.resume(cluster.node("B"));
    assertEquals(true, back.expect("welcome").getBoolean("resumed"));
    back.send(offer("alice", "v=0", null)); // speaking proves it has the new token: the old one is used up
    assertEquals("v=0", alice.expect("offer").getString("sdp"));
    back.drop();
    long droppedAt = System.nanoTime();
    for (String token : List.of(used, "forged-token-aaaaaaaaaa", alice.welcome.getString("resume"),
        other.welcome.getString("resume"))) {
      for (String node : List.of("A", "C")) {
        Client thief = cluster.node(node).connect();
        thief.send(new JsonObject().put("type", "join").put("room", "room").put("peer", "bob").put("resume", token));
        assertEquals("peer-id-taken", thief.expect("error").getString("code"), token + " through " + node);
        cluster.settle();
        assertEquals(4409, thief.closeCode);
      }
    }
    assertEquals(List.of(), alice.settled(), "no takeover, no churn");
    JsonObject left = alice.expect("peer-left");
    long afterMs = (System.nanoTime() - droppedAt) / 1_000_000;
    assertEquals("timeout", left.getString("reason"));
    assertTrue(afterMs < 1_500, "the window was not restarted by the attempts: " + afterMs + " ms");
  }

  @Test
  @DisplayName("a resume token for a peer no node holds joins afresh")
  void nothingToClaim() {
    cluster.store.autoRelease();
    Client alice = cluster.node("C").join("room", "alice");
    Client ghost = cluster.node("B").connect();
    ghost.send(new JsonObject().put("type", "join").put("room", "room").put("peer", "bob")
        .put("resume", "a-token-from-long-ago-aaaa"));
    JsonObject welcome = ghost.expect("welcome");
    assertEquals(false, welcome.getBoolean("resumed"));
    assertEquals("bob", alice.expect("peer-joined").getString("peer"));
  }

  @Test
  @DisplayName("the answer to a relay the peer sent before it moved reaches it on its new node, once")
  void ownAckFollowsThePeer() {
    Client[] ab = cluster.aliceAndBob();
    Client alice = ab[0];
    Client bob = ab[1];
    cluster.node("C").hold("A"); // alice's node will answer bob's relay late
    bob.send(offer("alice", "sdp-1", "o1"));
    assertEquals("sdp-1", alice.expect("offer").getString("sdp"));
    Client back = bob.resume(cluster.node("B"));
    assertEquals(true, back.expect("welcome").getBoolean("resumed"));
    cluster.settle();
    cluster.node("C").release("A"); // the answer reaches A, which bob left: it goes on to B
    assertEquals("o1", back.expect("ack").getString("id"));
    cluster.node("B").sessions.nodeLost("A"); // A leaving later owes nothing more: no second answer
    assertEquals(List.of(), back.settled(), "one answer");
    assertEquals(List.of(), bob.settled(), "nothing on the old socket");
  }

  @Test
  @DisplayName("a sender does not fence a move whose old node left the cluster: nothing would come through it")
  void noFenceThroughADepartedNode() {
    Client[] ab = cluster.aliceAndBob();
    Client alice = ab[0];
    Client bob = ab[1];
    Client back = bob.resume(cluster.node("B"));
    assertEquals(true, back.expect("welcome").getBoolean("resumed"));
    cluster.settle();
    cluster.kill("A");
    alice.send(offer("bob", "after", "o2"));
    cluster.settle();
    assertEquals(List.of("after"), back.settled().stream().map(f -> f.getString("sdp")).toList(),
        "delivered at once, not held for a fence that cannot come");
  }

  @Test
  @DisplayName("moved twice in quick succession: what the middle node held for a fence goes on in order")
  void doubleMoveKeepsOrder() {
    Client[] ab = cluster.aliceAndBob();
    Client alice = ab[0];
    Client bob = ab[1];
    cluster.node("C").hold("A");
    alice.send(offer("bob", "first", "o1")); // on its way to A
    Client second = bob.resume(cluster.node("B"));
    assertEquals(true, second.expect("welcome").getBoolean("resumed"));
    cluster.settle();
    alice.send(offer("bob", "second", "o2")); // fenced: held at B until alice's fence comes through A
    cluster.settle();
    Client third = second.resume(cluster.node("C")); // and on again, before the fence came
    assertEquals(true, third.expect("welcome").getBoolean("resumed"));
    cluster.settle();
    cluster.node("C").release("A");
    assertEquals("first", third.expect("offer").getString("sdp"));
    assertEquals("second", third.expect("offer").getString("sdp"));
    assertAckedOnce(alice, "o1", "o2");
  }

  @Test
  @DisplayName("moved away and back: a sender's fences for both moves come through, nothing waits for a gate's time limit")
  void awayAndBack() {
    Client[] ab = cluster.aliceAndBob();
    Client alice = ab[0];
    Client bob = ab[1];
    Client onB = bob.resume(cluster.node("B"));
    assertEquals(true, onB.expect("welcome").getBoolean("resumed"));
    cluster.settle();
    cluster.node("C").hold("A"); // alice's fence for the move A→B waits on its way to A
    alice.send(offer("bob", "1", "o1")); // direct to B, held there for that fence
    cluster.settle();
    Client onA = onB.resume(cluster.node("A")); // back to A before the fence came
    assertEquals(true, onA.expect("welcome").getBoolean("resumed"));
    cluster.settle();
    alice.send(offer("bob", "2", "o2")); // after the move B→A: fenced through B, direct to A
    cluster.settle();
    cluster.node("C").release("A");
    cluster.settle();
    List<String> got = onA.settled().stream().map(f -> f.getString("sdp")).toList();
    assertEquals(List.of("1", "2"), got, "both at once, in order: no gate waits for a fence that went astray");
    assertAckedOnce(alice, "o1", "o2");
  }
}
