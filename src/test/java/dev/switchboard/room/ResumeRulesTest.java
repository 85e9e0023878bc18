package dev.switchboard.room;

import static dev.switchboard.room.InMemoryCluster.offer;
import static dev.switchboard.room.InMemoryCluster.peersOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.protocol.CloseCode;
import dev.switchboard.room.InMemoryCluster.Client;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Resume on the node that held the peer, in one JVM: a socket that drops without leave leaves
 * its peer away, held for the resume window; the client's token takes it back, with what
 * reached it meanwhile, and the others see nothing. A token that is not the session's never
 * takes over the identity.
 */
class ResumeRulesTest {

  /** Short, so that the tests of the window's end wait little; and a small hold, to overflow. */
  private final InMemoryCluster cluster = new InMemoryCluster(
      List.of("--limits-resume-window", "800ms", "--limits-resume-buffer", "4"), "A", "B");

  @AfterEach
  void stop() {
    cluster.close();
  }

  private Client[] aliceAndBob() {
    cluster.store.autoRelease();
    Client alice = cluster.node("B").join("room", "alice");
    Client bob = cluster.node("A").join("room", "bob");
    alice.expect("peer-joined");
    return new Client[] {alice, bob};
  }

  @Test
  @DisplayName("every welcome carries a fresh token; a first join is not a resume")
  void welcomeCarriesToken() {
    Client[] ab = aliceAndBob();
    String a = ab[0].welcome.getString("resume");
    String b = ab[1].welcome.getString("resume");
    assertNotNull(a);
    assertTrue(a.length() >= 22, "128 bits, base64: " + a);
    assertNotEquals(a, b);
    assertEquals(false, ab[1].welcome.getBoolean("resumed"));
    assertEquals(800L, ab[1].welcome.getJsonObject("limits").getLong("resumeWindowMs"));
  }

  @Test
  @DisplayName("a dropped peer resumes on its node: same identity, what was sent meanwhile in order, acked when held; no churn")
  void resumeSameNode() {
    Client[] ab = aliceAndBob();
    Client alice = ab[0];
    Client bob = ab[1];
    bob.drop();
    alice.send(offer("bob", "sdp-1", "o1"));
    alice.send(new JsonObject().put("type", "message").put("to", "bob").put("data", 2));
    alice.send(new JsonObject().put("type", "message").put("data", 3)); // room-wide
    assertEquals("o1", alice.expect("ack").getString("id"), "acked once held");
    Client back = bob.resume(cluster.node("A"));
    JsonObject welcome = back.expect("welcome");
    assertEquals(true, welcome.getBoolean("resumed"));
    assertEquals("bob", welcome.getString("peer"));
    assertEquals(List.of("alice"), peersOf(welcome));
    assertNotEquals(bob.welcome.getString("resume"), welcome.getString("resume"), "a new token");
    assertEquals("sdp-1", back.expect("offer").getString("sdp"));
    assertEquals(2, back.expect("message").getInteger("data"));
    assertEquals(3, back.expect("message").getInteger("data"));
    assertEquals(List.of(), alice.settled(), "alice saw no peer-left, no peer-joined");
    // And it goes on as before, both ways.
    back.send(offer("alice", "sdp-2", "o2"));
    assertEquals("sdp-2", alice.expect("offer").getString("sdp"));
    assertEquals("o2", back.expect("ack").getString("id"));
    alice.send(offer("bob", "sdp-3", null));
    assertEquals("sdp-3", back.expect("offer").getString("sdp"));
  }

  @Test
  @DisplayName("a client that resumes before its node saw the old socket drop takes the session from it (4409)")
  void resumeWhileOldSocketOpen() {
    Client[] ab = aliceAndBob();
    Client bob = ab[1];
    Client back = bob.resume(cluster.node("A"));
    assertEquals(true, back.expect("welcome").getBoolean("resumed"));
    cluster.settle();
    assertEquals(CloseCode.PEER_ID_TAKEN, bob.closeCode, "the old socket is closed");
    bob.send(offer("alice", "late on the old socket", null)); // read there before its close: not the session's any more
    cluster.settle();
    assertEquals(List.of(), ab[0].settled(), "what the old socket still brought is dropped");
    ab[0].send(offer("bob", "x", "o"));
    assertEquals("x", back.expect("offer").getString("sdp"));
    assertEquals(List.of(), bob.settled(), "nothing more on the old socket");
    assertEquals(List.of("o"), ab[0].settled().stream().map(f -> f.getString("id")).toList());
  }

  @Test
  @DisplayName("wrong, reused and other peers' tokens are refused 4409, and do not restart the window")
  void badTokens() throws Exception {
    Client[] ab = aliceAndBob();
    Client alice = ab[0];
    Client bob = ab[1];
    String used = bob.welcome.getString("resume");
    bob.drop();
    Client back = bob.resume(cluster.node("A"));
    assertEquals(true, back.expect("welcome").getBoolean("resumed"));
    back.send(offer("alice", "v=0", null)); // speaking proves it has the new token: the old one is used up
    assertEquals("v=0", alice.expect("offer").getString("sdp"));
    back.drop();
    long droppedAt = System.nanoTime();
    for (String token : List.of(used, "forged-token-aaaaaaaaaa", alice.welcome.getString("resume"))) {
      Client thief = cluster.node("A").connect();
      thief.send(new JsonObject().put("type", "join").put("room", "room").put("peer", "bob").put("resume", token));
      assertEquals("peer-id-taken", thief.expect("error").getString("code"), token);
      cluster.settle();
      assertEquals(CloseCode.PEER_ID_TAKEN, thief.closeCode);
      Thread.sleep(150); // spread the attempts over the window: none of them may extend it
    }
    JsonObject left = alice.expect("peer-left");
    long ms = (System.nanoTime() - droppedAt) / 1_000_000;
    assertEquals(List.of("bob", "timeout"), List.of(left.getString("peer"), left.getString("reason")));
    assertTrue(ms < 800 + 600, "the window was not restarted by failed attempts: " + ms + " ms");
    assertEquals(List.of(), alice.settled(), "exactly once");
  }

  @Test
  @DisplayName("a resumed welcome lost with its socket: the replaced token still works until the client speaks")
  void welcomeLostWithItsSocket() {
    Client[] ab = aliceAndBob();
    Client bob = ab[1];
    String first = bob.welcome.getString("resume");
    bob.drop();
    Client back = bob.resume(cluster.node("A"));
    assertEquals(true, back.expect("welcome").getBoolean("resumed"));
    back.drop(); // before its client read the welcome: it still holds the first token
    Client again = cluster.node("A").connect();
    again.send(new JsonObject().put("type", "join").put("room", "room").put("peer", "bob").put("resume", first));
    assertEquals(true, again.expect("welcome").getBoolean("resumed"));
    assertEquals(List.of(), ab[0].settled(), "alice saw nothing");
  }

  @Test
  @DisplayName("a peer not back within the window leaves with timeout, once; its token then joins afresh")
  void windowEnds() {
    Client[] ab = aliceAndBob();
    Client alice = ab[0];
    Client bob = ab[1];
    bob.drop();
    JsonObject left = alice.expect("peer-left");
    assertEquals("timeout", left.getString("reason"));
    assertEquals(List.of(), alice.settled());
    Client late = bob.resume(cluster.node("A"));
    JsonObject welcome = late.expect("welcome");
    assertEquals(false, welcome.getBoolean("resumed"), "too late: a fresh join");
    assertEquals("bob", alice.expect("peer-joined").getString("peer"));
  }

  @Test
  @DisplayName("more than limits.resume-buffer held: the sender gets an error for the one that did not fit, the peer leaves")
  void holdOverflows() {
    Client[] ab = aliceAndBob();
    Client alice = ab[0];
    ab[1].drop();
    for (int i = 1; i <= 5; i++) {
      alice.send(offer("bob", "sdp-" + i, "o" + i));
    }
    for (int i = 1; i <= 4; i++) {
      assertEquals("o" + i, alice.expect("ack").getString("id"));
    }
    JsonObject error = alice.expect("error");
    assertEquals(List.of("peer-not-found", "o5"), List.of(error.getString("code"), error.getString("id")));
    JsonObject left = alice.expect("peer-left");
    assertEquals(List.of("bob", "timeout"), List.of(left.getString("peer"), left.getString("reason")));
  }

  @Test
  @DisplayName("leave ends the peer at once: no window")
  void leaveIsFinal() {
    Client[] ab = aliceAndBob();
    ab[1].send(new JsonObject().put("type", "leave"));
    assertEquals("left", ab[0].expect("peer-left").getString("reason"));
    Client again = ab[1].resume(cluster.node("A"));
    assertEquals(false, again.expect("welcome").getBoolean("resumed"));
  }

  @Test
  @DisplayName("the answer to a relay the peer sent before it dropped reaches it after its resume")
  void ownAckHeld() {
    Client[] ab = aliceAndBob();
    Client bob = ab[1];
    cluster.node("A").hold("B");
    bob.send(offer("alice", "v=0", "mine"));
    cluster.settle();
    bob.drop();
    cluster.node("A").release("B");
    assertEquals("v=0", ab[0].expect("offer").getString("sdp"));
    cluster.settle();
    Client back = bob.resume(cluster.node("A"));
    assertEquals(true, back.expect("welcome").getBoolean("resumed"));
    assertEquals("mine", back.expect("ack").getString("id"));
  }

  private static JsonObject resumeJoin(String token, long received) {
    return new JsonObject().put("type", "join").put("room", "room").put("peer", "bob").put("resume", token)
        .put("received", received);
  }

  @Test
  @DisplayName("a welcome lost with its socket: the resume with the replaced token gets everything since, and the count it was told")
  void replacedTokenGetsEverythingSince() {
    Client[] ab = aliceAndBob();
    Client alice = ab[0];
    Client bob = ab[1];
    String first = bob.welcome.getString("resume");
    alice.send(new JsonObject().put("type", "message").put("to", "bob").put("data", 1));
    alice.send(new JsonObject().put("type", "message").put("to", "bob").put("data", 2));
    assertEquals(1, bob.expect("message").getInteger("data"));
    assertEquals(2, bob.expect("message").getInteger("data"));
    bob.send(offer("alice", "from-bob-1", null));
    bob.send(offer("alice", "from-bob-2", null));
    assertEquals("from-bob-1", alice.expect("offer").getString("sdp"));
    assertEquals("from-bob-2", alice.expect("offer").getString("sdp"));
    bob.drop();
    for (int i = 1; i <= 3; i++) {
      alice.send(offer("bob", "held-" + i, "h" + i));
      assertEquals("h" + i, alice.expect("ack").getString("id"));
    }
    Client lost = cluster.node("A").connect();
    lost.send(resumeJoin(first, 2));
    assertEquals(2, lost.expect("welcome").getInteger("received"), "bob's two offers arrived");
    lost.drop(); // its welcome and the three offers never reached bob's client
    Client again = cluster.node("A").connect();
    again.send(resumeJoin(first, 2));
    JsonObject welcome = again.expect("welcome");
    assertEquals(true, welcome.getBoolean("resumed"));
    assertEquals(2, welcome.getInteger("received"), "the count the lost welcome told, not 0");
    for (int i = 1; i <= 3; i++) {
      assertEquals("held-" + i, again.expect("offer").getString("sdp"));
    }
    assertEquals(List.of(), again.settled());
  }

  @Test
  @DisplayName("a relay refused because the socket closed under it is not sent again by a resume")
  void refusedIsNotResent() {
    Client[] ab = aliceAndBob();
    Client alice = ab[0];
    Client bob = ab[1];
    bob.closeCode = 1006; // closed, and the node has not heard yet
    alice.send(offer("bob", "lost", "o1"));
    JsonObject error = alice.expect("error");
    assertEquals(List.of("peer-not-found", "o1"), List.of(error.getString("code"), error.getString("id")));
    bob.drop();
    Client back = cluster.node("A").connect();
    back.send(resumeJoin(bob.welcome.getString("resume"), 0));
    assertEquals(true, back.expect("welcome").getBoolean("resumed"));
    assertEquals(List.of(), back.settled(), "the refused offer does not come after all");
  }

  @Test
  @DisplayName("a room closed while the join was in flight: the joiner gets welcome, room-closed, a close, and leaves at once")
  void roomClosedDuringJoin() {
    cluster.store.autoRelease();
    Client alice = cluster.node("B").join("room", "alice");
    cluster.store.manual();
    Client bob = cluster.node("A").connect();
    bob.join("room", "bob");
    ScriptedStore.Step join = cluster.store.await("join", "bob");
    InMemoryCluster.Member a = cluster.node("A");
    a.channelLoop.runOnContext(v -> a.router.receive("B",
        new dev.switchboard.cluster.Envelope.CloseRoom("room", dev.switchboard.protocol.ServerMessage.roomClosed("closed"))));
    cluster.settle();
    cluster.store.autoRelease(); // for bob's leave, asked once the join is released
    join.release();
    bob.expect("welcome");
    assertEquals("room-closed", bob.expect("room-closed").getString("type"));
    cluster.settle();
    assertEquals(CloseCode.NORMAL, bob.closeCode);
    assertEquals(java.util.Set.of("alice"), cluster.store.members("room"), "bob left at once, not after the window");
  }

  @Test
  @DisplayName("churn in the room while a peer is away does not use up what is held for it; its welcome shows the room now")
  void membershipChurnNotHeld() {
    Client[] ab = aliceAndBob();
    Client bob = ab[1];
    bob.drop();
    for (int i = 0; i < 3; i++) { // six membership events, against a hold of four
      Client c = cluster.node("B").join("room", "carol" + i);
      c.send(new JsonObject().put("type", "leave"));
      cluster.settle();
    }
    Client dave = cluster.node("B").join("room", "dave");
    dave.send(offer("bob", "from-dave", "d1"));
    assertEquals("d1", dave.expect("ack").getString("id"));
    Client back = bob.resume(cluster.node("A"));
    JsonObject welcome = back.expect("welcome");
    assertEquals(true, welcome.getBoolean("resumed"), "still held: " + welcome.encode());
    assertEquals(List.of("alice", "dave"), peersOf(welcome).stream().sorted().toList());
    assertEquals("from-dave", back.expect("offer").getString("sdp"));
    assertEquals(List.of(), back.settled(), "no peer-joined or peer-left replayed: the welcome shows the room");
  }
}
