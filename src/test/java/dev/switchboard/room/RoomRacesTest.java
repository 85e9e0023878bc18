package dev.switchboard.room;

import static dev.switchboard.room.InMemoryCluster.offer;
import static dev.switchboard.room.InMemoryCluster.peersOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.room.InMemoryCluster.Client;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Races between nodes, the store and slow links, as scripts: the store runs each step when the
 * test releases it, and a link delivers what it held when the test releases it. Each test names
 * the interleaving it plays; none waits on a clock. (They were cluster tests with sleeps and a
 * paused Redis; the cluster layer keeps what needs a real Redis or event bus.)
 */
class RoomRacesTest {

  private final InMemoryCluster cluster = new InMemoryCluster("A", "B");
  private final ScriptedStore store = cluster.store;

  @AfterEach
  void stop() {
    cluster.close();
  }

  private Client joinNow(String node, String room, String peer) {
    Client c = cluster.node(node).connect();
    c.join(room, peer);
    store.await("join", peer).release();
    c.expect("welcome");
    return c;
  }

  private void release(String step, String peer) {
    store.await(step, peer).release();
  }

  @Test
  @DisplayName("a member gets peer-joined for a newcomer before its state and its offer, however slow the link")
  void peerJoinedBeforeStateAndOfferOnSlowLink() {
    Client a = joinNow("A", "room", "a");
    cluster.node("B").hold("A");
    Client n = joinNow("B", "room", "n");
    n.send(new JsonObject().put("type", "state").put("audio", true).put("id", "s1"));
    release("state", "n");
    assertEquals("s1", n.expect("ack").getString("id"));
    // Another peer joins on A: the store lists n with its newer record (the state change's seq).
    Client c = joinNow("A", "room", "c");
    assertEquals(List.of("a", "n"), peersOf(c.welcome).stream().sorted().toList());
    n.send(offer("a", "v=0", "o1"));
    assertEquals(List.of("peer-joined c"), summary(a.settled()), "nothing of n crosses the held link");
    cluster.node("B").release("A");
    assertEquals(List.of("peer-joined n", "peer-state n", "offer n"), summary(a.settled()));
    assertEquals(List.of("peer-joined c", "ack null"), summary(n.settled()), "n hears of c, and its offer is acked");
  }

  @Test
  @DisplayName("an answer meant for a previous session of a peer id is never taken as the answer to a new session's relay")
  void staleAnswerNotTakenByNewSession() {
    Client bob = joinNow("B", "room", "bob");
    Client alice = joinNow("A", "room", "alice");
    bob.expect("peer-joined");
    cluster.node("B").hold("A");
    // alice (session 1, whose first relay with an id has ref 1) offers to bob; bob's node acks, held.
    alice.send(offer("bob", "old", "old"));
    bob.expect("offer");
    alice.session.leave(dev.switchboard.protocol.LeaveReason.DISCONNECTED);
    release("leave", "alice");
    bob.expect("peer-left");
    // alice comes back on the same node: session 2, whose first relay with an id has ref 1 too.
    Client alice2 = joinNow("A", "room", "alice");
    bob.expect("peer-joined");
    bob.session.leave(dev.switchboard.protocol.LeaveReason.DISCONNECTED);
    release("leave", "bob");
    alice2.send(offer("bob", "new", "new"));
    // Node A has not heard that bob left (the link is held), so the relay goes to node B.
    cluster.node("B").release("A");
    List<JsonObject> answers = alice2.settled().stream().filter(m -> "new".equals(m.getString("id"))).toList();
    assertEquals(1, answers.size(), "exactly one answer for 'new': " + answers);
    assertEquals(List.of("error", "peer-not-found"),
        List.of(answers.get(0).getString("type"), answers.get(0).getString("code")),
        "the relay to a gone peer must not be acked with session 1's ack");
  }

  @Test
  @DisplayName("a newcomer never gets a room message from a peer that left before its welcome and that it never heard of")
  void noMessageFromPeerUnknownToNewcomer() {
    Client a = joinNow("A", "room", "a");
    Client x = joinNow("B", "room", "x");
    a.expect("peer-joined");
    Client m = cluster.node("A").connect();
    m.join("room", "m");
    ScriptedStore.Step mJoin = store.await("join", "m");
    // m's session is joining: room envelopes reach it and wait for its welcome.
    x.send(new JsonObject().put("type", "message").put("data", "from-x"));
    assertEquals("from-x", a.expect("message").getString("data"));
    x.send(new JsonObject().put("type", "leave"));
    release("leave", "x"); // the store runs x's leave before m's join
    mJoin.release();
    assertEquals(List.of("a"), peersOf(m.expect("welcome")));
    List<JsonObject> got = m.settled();
    assertTrue(got.stream().noneMatch(f -> "x".equals(f.getString("from")) || "x".equals(f.getString("peer"))),
        "m's welcome does not list x, yet m got: " + got);
  }

  @Test
  @DisplayName("a join whose answer was lost is undone, and whoever saw it in welcome hears peer-left")
  void joinUndoneAfterLostAnswer() {
    Client p = cluster.node("A").connect();
    p.join("room", "p");
    store.await("join", "p").answerLost(); // the store added p, but node A never heard
    assertEquals("unavailable", p.expect("error").getString("code"));
    Client q = cluster.node("B").connect();
    q.join("room", "q");
    release("join", "q"); // runs before p's undo: q's welcome lists p
    assertEquals(List.of("p"), peersOf(q.expect("welcome")));
    release("leave", "p");
    JsonObject left = q.expect("peer-left");
    assertEquals(List.of("p", "disconnected"), List.of(left.getString("peer"), left.getString("reason")));
  }

  @Test
  @DisplayName("a state change whose answer was lost but that ran is written again, then members and newcomers agree")
  void lostStateAnswerDoesNotSplitTheRoom() {
    Client b = joinNow("B", "room", "b");
    Client a = joinNow("A", "room", "a");
    b.expect("peer-joined");
    a.send(new JsonObject().put("type", "state").put("audio", true).put("id", "s"));
    store.await("state", "a").answerLost();
    release("state", "a"); // written again after a pause: same record, answered this time
    assertEquals("s", a.expect("ack").getString("id"));
    assertEquals(true, b.expect("peer-state").getJsonObject("state").getBoolean("audio"));
    Client c = joinNow("B", "room", "c");
    JsonObject aInWelcome = c.welcome.getJsonArray("peers").stream().map(JsonObject.class::cast)
        .filter(peer -> "a".equals(peer.getString("peer"))).findFirst().orElseThrow();
    assertEquals(true, aInWelcome.getJsonObject("state").getBoolean("audio"));
  }

  @Test
  @DisplayName("a leave that the store does not answer still reaches the others, after the peer's last state change")
  void leaveWithoutAnswerStillAnnounced() {
    Client b = joinNow("B", "room", "b");
    Client a = joinNow("A", "room", "a");
    b.expect("peer-joined");
    a.send(new JsonObject().put("type", "state").put("audio", false).put("id", "s"));
    release("state", "a");
    a.expect("ack");
    b.expect("peer-state");
    a.session.leave(dev.switchboard.protocol.LeaveReason.DISCONNECTED);
    store.await("leave", "a").fail();
    JsonObject left = b.expect("peer-left");
    assertEquals("a", left.getString("peer"));
  }

  @Test
  @DisplayName("a relay with an id sent just before leave is answered before the leave is written")
  void leaveWaitsForAnswers() {
    Client bob = joinNow("B", "room", "bob");
    Client alice = joinNow("A", "room", "alice");
    bob.expect("peer-joined");
    cluster.node("B").hold("A");
    alice.send(offer("bob", "x", "x"));
    bob.expect("offer");
    alice.send(new JsonObject().put("type", "leave"));
    cluster.settle();
    assertTrue(store.pendingSteps().isEmpty(), "the leave waits for the answer to x: " + store.pendingSteps());
    cluster.node("B").release("A"); // bob's node's ack for x arrives now
    assertEquals("x", alice.expect("ack").getString("id"));
    release("leave", "alice");
    assertEquals("alice", bob.expect("peer-left").getString("peer"));
  }

  /** Each frame as its type and the peer it is about or from. */
  private static List<String> summary(List<JsonObject> frames) {
    return frames.stream().map(f -> f.getString("type") + " " + f.getString("peer", f.getString("from"))).toList();
  }
}
