package dev.switchboard.room;

import static dev.switchboard.room.InMemoryCluster.offer;
import static dev.switchboard.room.InMemoryCluster.peersOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.switchboard.protocol.CloseCode;
import dev.switchboard.room.InMemoryCluster.Client;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Resume after the death of the peer's node, in one JVM: what is sent to the orphan is held in
 * the store once its node is declared dead, and the node the client comes back to adopts the
 * member from the store (checking the token against the digest there) and sends what was held
 * first. Node A dies here by dropping whatever is sent to it; its sessions are left as they were,
 * as a killed process leaves nothing that acts. The reaper's part (the declaration, the end of
 * the window) is the store's {@code declaredDead}; {@code NodeDeathResumeTest} runs the real one.
 */
class OrphanRulesTest {

  private final InMemoryCluster cluster = new InMemoryCluster(
      List.of("--limits-resume-window", "5s", "--limits-resume-buffer", "8"), "A", "B", "C");

  @AfterEach
  void stop() {
    cluster.close();
  }

  /** Alice on C, bob on A; then A dies and every live node notices. */
  private Client[] bobsNodeDies() {
    cluster.store.autoRelease();
    Client alice = cluster.node("C").join("room", "alice");
    Client bob = cluster.node("A").join("room", "bob");
    alice.expect("peer-joined");
    cluster.kill("A");
    cluster.node("B").sessions.nodeLost("A");
    cluster.node("C").sessions.nodeLost("A");
    cluster.settle();
    return new Client[] {alice, bob};
  }

  private static JsonObject message(String to, int n) {
    return new JsonObject().put("type", "message").put("to", to).put("data", n);
  }

  @Test
  @DisplayName("an orphan resumes through another node: same identity, no churn, what was sent after the death first and in order, acked once held")
  void orphanResumesElsewhere() {
    Client[] ab = bobsNodeDies();
    Client alice = ab[0];
    Client bob = ab[1];
    cluster.store.declaredDead("A");
    alice.send(offer("bob", "sdp-1", "o1"));
    alice.send(message("bob", 2));
    alice.send(new JsonObject().put("type", "message").put("data", 3)); // room-wide
    assertEquals("o1", alice.expect("ack").getString("id"), "acked once held in the store");
    Client back = bob.resume(cluster.node("B"));
    JsonObject welcome = back.expect("welcome");
    assertEquals(List.of(true, true, "bob", "B"), List.of(welcome.getBoolean("resumed"),
        welcome.getBoolean("nodeLost"), welcome.getString("peer"), welcome.getString("node")));
    assertFalse(welcome.containsKey("received"), "the node that counted bob's messages died with the count");
    assertEquals(List.of("alice"), peersOf(welcome));
    assertNotEquals(bob.welcome.getString("resume"), welcome.getString("resume"), "a new token");
    assertEquals("sdp-1", back.expect("offer").getString("sdp"));
    assertEquals(2, back.expect("message").getInteger("data"));
    assertEquals(3, back.expect("message").getInteger("data"));
    assertEquals(List.of(), alice.settled(), "alice saw no peer-left, no peer-joined, no second ack");
    assertEquals("B", cluster.store.member("room", "bob").getString("node"));
    assertEquals(ResumeToken.digestOf(welcome.getString("resume")), cluster.store.token("room", "bob"),
        "the store checks the new token if B dies next");
    back.send(offer("alice", "sdp-2", "o2"));
    assertEquals("sdp-2", alice.expect("offer").getString("sdp"));
    assertEquals("o2", back.expect("ack").getString("id"));
    alice.send(offer("bob", "sdp-3", "o3"));
    assertEquals("sdp-3", back.expect("offer").getString("sdp"));
    assertEquals("o3", alice.expect("ack").getString("id"));
  }

  @Test
  @DisplayName("until the reaper declares the node dead, a message to its peer waits (no answer yet), then is held and acked")
  void heldOnceDeclaredDead() {
    Client[] ab = bobsNodeDies();
    Client alice = ab[0];
    Client bob = ab[1];
    alice.send(offer("bob", "sdp-1", "o1"));
    alice.send(offer("bob", "sdp-2", "o2"));
    cluster.settle();
    assertEquals(List.of(), alice.settled(), "the store says A may be alive: tried again, not answered");
    cluster.store.declaredDead("A");
    assertEquals("o1", alice.expect("ack").getString("id"));
    assertEquals("o2", alice.expect("ack").getString("id"));
    Client back = bob.resume(cluster.node("B"));
    assertEquals(true, back.expect("welcome").getBoolean("nodeLost"));
    assertEquals("sdp-1", back.expect("offer").getString("sdp"));
    assertEquals("sdp-2", back.expect("offer").getString("sdp"));
  }

  @Test
  @DisplayName("a resume that reaches a node before the store knows the holder is dead is adopted once it does")
  void resumeWaitsForTheDeclaration() {
    cluster.store.autoRelease();
    Client alice = cluster.node("C").join("room", "alice");
    Client bob = cluster.node("A").join("room", "bob");
    alice.expect("peer-joined");
    cluster.crash("A"); // dead, and nobody noticed yet
    Client back = bob.resume(cluster.node("B")); // B claims bob from A, which will never answer
    cluster.settle();
    assertEquals(List.of(), back.settled());
    cluster.kill("A");
    cluster.node("B").sessions.nodeLost("A"); // B notices: the claim turns to the store, which says "alive"
    cluster.settle();
    assertEquals(List.of(), back.settled());
    cluster.store.declaredDead("A");
    JsonObject welcome = back.expect("welcome");
    assertEquals(List.of(true, true), List.of(welcome.getBoolean("resumed"), welcome.getBoolean("nodeLost")));
    assertEquals(List.of(), alice.settled(), "no churn");
  }

  @Test
  @DisplayName("a token that is not the orphan's is refused 4409 at adoption, and the orphan can still be taken back with its own")
  void badTokenAtAdoption() {
    Client[] ab = bobsNodeDies();
    Client alice = ab[0];
    Client bob = ab[1];
    cluster.store.declaredDead("A");
    Client forged = cluster.node("B").connect();
    forged.send(new JsonObject().put("type", "join").put("room", "room").put("peer", "bob")
        .put("resume", alice.welcome.getString("resume")));
    assertEquals("peer-id-taken", forged.expect("error").getString("code"));
    cluster.settle();
    assertEquals(CloseCode.PEER_ID_TAKEN, forged.closeCode);
    assertEquals("A", cluster.store.member("room", "bob").getString("node"), "still the orphan of A");
    Client back = bob.resume(cluster.node("C"));
    assertEquals(true, back.expect("welcome").getBoolean("nodeLost"));
    assertEquals(List.of(), alice.settled(), "no churn");
  }

  @Test
  @DisplayName("more held for an orphan than limits.resume-buffer: it leaves (timeout) once, its sender gets peer-not-found, and its resume is a fresh join")
  void overflowEndsTheOrphan() {
    Client[] ab = bobsNodeDies();
    Client alice = ab[0];
    Client bob = ab[1];
    cluster.store.declaredDead("A");
    for (int i = 1; i <= 9; i++) {
      alice.send(offer("bob", "sdp-" + i, "o" + i));
    }
    for (int i = 1; i <= 8; i++) {
      assertEquals("o" + i, alice.expect("ack").getString("id"));
    }
    JsonObject error = alice.expect("error");
    assertEquals(List.of("peer-not-found", "o9"), List.of(error.getString("code"), error.getString("id")));
    JsonObject left = alice.expect("peer-left");
    assertEquals(List.of("bob", "timeout"), List.of(left.getString("peer"), left.getString("reason")));
    assertNull(cluster.store.member("room", "bob"));
    Client back = bob.resume(cluster.node("B"));
    assertEquals(false, back.expect("welcome").getBoolean("resumed"), "gone: a fresh join");
    assertEquals("bob", alice.expect("peer-joined").getString("peer"));
  }
}
