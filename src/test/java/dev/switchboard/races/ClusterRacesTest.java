package dev.switchboard.races;

import static dev.switchboard.testing.Waits.drain;
import static dev.switchboard.testing.Waits.sleep;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.switchboard.testing.TestCluster;
import dev.switchboard.testing.TestPeer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Races on the ordering and failure paths, on a real three-node cluster and a real Redis.
 *
 * <p>Node 0 gives Redis 300 ms per command, so that a Redis that does not answer (here: paused
 * with CLIENT PAUSE ... WRITE, which holds every script) makes its joins and leaves fail fast;
 * nodes 1 and 2 wait 5 s. Slow cluster links are made with {@link LinkGate}, which delays one
 * node's envelopes to another without reordering them.
 */
class ClusterRacesTest {

  static TestCluster cluster;

  @BeforeAll
  static void start() {
    Map<String, String> common = Map.of("limits-rate", "100000", "limits-rate-burst", "100000");
    Map<String, String> fast = new java.util.HashMap<>(common);
    fast.put("redis-timeout", "300ms");
    Map<String, String> patient = new java.util.HashMap<>(common);
    patient.put("redis-timeout", "5s");
    cluster = TestCluster.start(1, fast);
    cluster.addNode(patient);
    cluster.addNode(patient);
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  @AfterEach
  void unpause() {
    cluster.redis(Command.CLIENT, "UNPAUSE");
  }

  private static String room() {
    return "review-" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static JsonObject offer(String to, String sdp, String id) {
    JsonObject o = new JsonObject().put("type", "offer").put("to", to).put("sdp", sdp);
    return id == null ? o : o.put("id", id);
  }


  private static String types(List<JsonObject> ms) {
    return ms.stream().map(JsonObject::encode).collect(Collectors.joining("\n  ", "\n  ", ""));
  }


  // --- (a) a peer that rejoins on the same node within the 1 s unregister grace ---

  @Test
  @DisplayName("a peer that leaves and rejoins on the same node at once gets every relay sent to it")
  void rejoinWithinGraceGetsEveryRelay() {
    String room = room();
    try (TestPeer bob = cluster.join(1, room, "bob")) {
      TestPeer alice = cluster.join(1, room, "alice");
      bob.expect("peer-joined");
      alice.send(new JsonObject().put("type", "leave"));
      alice.awaitClose();
      bob.expect("peer-left");
      // A page reload: the same peer id comes back through the same node, well within 1 s.
      try (TestPeer alice2 = cluster.join(1, room, "alice")) {
        bob.expect("peer-joined");
        for (int i = 0; i < 10; i++) {
          bob.send(offer("alice", "o" + i, "m" + i));
        }
        List<JsonObject> answers = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
          answers.add(bob.next());
        }
        List<JsonObject> errors = answers.stream().filter(m -> m.getString("type").equals("error")).toList();
        assertEquals(List.of(), errors, "relays to the rejoined alice were answered with errors; answers:" + types(answers));
        List<JsonObject> got = drain(alice2, 300);
        assertEquals(10, got.size(), "alice2 got only:" + types(got));
      }
    }
  }

  // --- (b)/(c) peer-joined lost when a later local join's snapshot carries the newcomer's later state ---

  @Test
  @DisplayName("a member gets peer-joined for a newcomer before its state and its offer, whatever the link's latency")
  void peerJoinedBeforeStateAndOfferOnSlowLink() {
    String room = room();
    try (LinkGate gate = new LinkGate(cluster.node(2).vertx(), cluster.node(1).nodeId());
         TestPeer a = cluster.join(1, room, "a")) {
      // The link from node 2 to node 1 is slow: everything node 2 sends to node 1 waits, in order.
      gate.hold();
      TestPeer n = cluster.join(2, room, "n");
      assertEquals(1, n.welcome.getJsonArray("peers").size());
      n.send(new JsonObject().put("type", "state").put("audio", true).put("id", "s1"));
      assertEquals("s1", n.expect("ack").getString("id"));
      // Another peer joins on node 1: Redis lists n with its newer record (seq of the state change).
      TestPeer c = cluster.join(1, room, "c");
      assertEquals(2, c.welcome.getJsonArray("peers").size());
      assertEquals("c", a.expect("peer-joined").getString("peer"));
      assertEquals("c", n.expect("peer-joined").getString("peer"));
      // The newcomer offers to a, which it saw in its welcome.
      n.send(offer("a", "hello", null));
      sleep(200);
      assertTrue(gate.held() >= 3, "join, state and offer are on the slow link");
      gate.release();
      List<JsonObject> got = drain(a, 700);
      assertTrue(!got.isEmpty(), "a got nothing from n");
      JsonObject first = got.get(0);
      assertEquals("peer-joined", first.getString("type"), "a's first message about n:" + types(got));
      assertEquals("n", first.getString("peer"));
      n.close();
      c.close();
    }
  }

  // --- (a) an ack meant for a previous session of the same peer id ---

  @Test
  @DisplayName("an ack for a previous session of the same peer id is not taken as the ack of a new session's relay")
  void staleAckNotTakenByNewSession() {
    String room = room();
    try (LinkGate gate = new LinkGate(cluster.node(2).vertx(), cluster.node(1).nodeId())) {
      TestPeer bob = cluster.join(2, room, "bob");
      TestPeer alice = cluster.join(1, room, "alice");
      bob.expect("peer-joined");
      gate.hold();
      // alice (session 1, ref 1) offers to bob; bob's node acks, slowly.
      alice.send(offer("bob", "old", "old"));
      bob.expect("offer");
      alice.disconnect();
      bob.expect("peer-left");
      sleep(1300); // past the 1 s unregister grace: the old session's addresses are gone
      // alice comes back on the same node (session 2, whose first relay with an id is ref 1 too).
      try (TestPeer alice2 = cluster.join(1, room, "alice")) {
        bob.expect("peer-joined");
        bob.disconnect();
        sleep(300);
        // bob's node no longer has bob: this relay must end in peer-not-found.
        alice2.send(offer("bob", "new", "new"));
        sleep(200);
        gate.release();
        List<JsonObject> got = drain(alice2, 700);
        List<JsonObject> answers = got.stream().filter(m -> "new".equals(m.getString("id"))).toList();
        assertEquals(1, answers.size(), "exactly one answer for 'new':" + types(got));
        assertEquals("error", answers.get(0).getString("type"),
            "the relay to a gone peer was acked (with the ack of session 1's relay):" + types(got));
        assertEquals("peer-not-found", answers.get(0).getString("code"));
      }
    }
  }

  // --- (b) a room-wide message from a peer that left before the newcomer's snapshot ---

  @Test
  @DisplayName("a newcomer never gets a room message from a peer that is neither in its welcome nor announced")
  void noMessageFromPeerUnknownToNewcomer() {
    String room = room();
    List<TestPeer> fillers = new ArrayList<>();
    try (TestPeer a = cluster.join(1, room, "a"); TestPeer x = cluster.join(2, room, "x")) {
      a.expect("peer-joined");
      cluster.redis(Command.CLIENT, "PAUSE", "2000", "WRITE");
      // Node 1's Redis connections (8) all wait on paused scripts, so its next join waits in
      // the client's queue: m's join reaches Redis only after the pause.
      for (int i = 0; i < 10; i++) {
        TestPeer f = cluster.connect(1);
        f.send(new JsonObject().put("type", "join").put("room", room() + "-f").put("peer", "f"));
        fillers.add(f);
      }
      TestPeer m = cluster.connect(1);
      m.send(new JsonObject().put("type", "join").put("room", room).put("peer", "m"));
      sleep(200); // m's session is JOINING: its room address is registered
      x.send(new JsonObject().put("type", "message").put("data", "from-x"));
      assertEquals("from-x", a.expect("message").getString("data"));
      x.send(new JsonObject().put("type", "leave"));  // reaches Redis (paused) before m's join
      sleep(100);
      JsonObject welcome = m.next(Duration.ofSeconds(8));
      assertEquals("welcome", welcome.getString("type"), welcome.encode());
      JsonArray peers = welcome.getJsonArray("peers");
      assumeTrue(peers.stream().noneMatch(p -> "x".equals(((JsonObject) p).getString("peer"))),
          "x's leave reached Redis after m's join: the interleaving did not happen");
      List<JsonObject> got = drain(m, 700);
      assertTrue(got.stream().noneMatch(msg -> "x".equals(msg.getString("from"))),
          "m's welcome does not list x and m never got peer-joined(x), yet m got x's message:" + types(got));
      m.close();
    } finally {
      cluster.redis(Command.CLIENT, "UNPAUSE");
      fillers.forEach(TestPeer::close);
    }
  }

  // --- (f) a leave while Redis does not answer, after a state change ---

  @Test
  @DisplayName("a leave that Redis does not answer still reaches the others when the peer changed its state")
  void leaveWhileRedisDownAfterStateChange() {
    String room = room();
    try (TestPeer b = cluster.join(2, room, "b")) {
      TestPeer a = cluster.join(0, room, "a");
      b.expect("peer-joined");
      a.send(new JsonObject().put("type", "state").put("audio", false).put("id", "s"));
      assertEquals("s", a.expect("ack").getString("id"));
      b.expect("peer-state");
      cluster.redis(Command.CLIENT, "PAUSE", "1500", "WRITE");
      // Node 0's leave times out after 300 ms: it announces the leave itself.
      a.disconnect();
      JsonObject left = b.next(Duration.ofSeconds(3));
      assertEquals("peer-left", left.getString("type"), left.encode());
      assertEquals("a", left.getString("peer"));
    }
  }

  // --- (f) a join that Redis answers too late ---

  @Test
  @DisplayName("a join undone after a Redis timeout is announced as a leave to whoever saw it in welcome")
  void joinUndoneAfterTimeoutIsAnnounced() {
    String room = room();
    cluster.redis(Command.CLIENT, "PAUSE", "1500", "WRITE");
    TestPeer p = cluster.connect(0);
    p.send(new JsonObject().put("type", "join").put("room", room).put("peer", "p"));
    sleep(100);
    TestPeer q = cluster.connect(2);
    q.send(new JsonObject().put("type", "join").put("room", room).put("peer", "q"));
    // Node 0 gives up after 300 ms: p is refused, and node 0 undoes the join in Redis.
    assertEquals("unavailable", p.expect("error").getString("code"));
    assertEquals(4503, p.awaitClose());
    // After the pause Redis runs p's join, q's join, then p's undo: q's welcome lists p.
    JsonObject welcome = q.next(Duration.ofSeconds(5));
    assertEquals("welcome", welcome.getString("type"), welcome.encode());
    assumeTrue(welcome.getJsonArray("peers").size() == 1, "q's join did not run between p's join and its undo");
    assertEquals("p", welcome.getJsonArray("peers").getJsonObject(0).getString("peer"));
    JsonObject next = q.next(Duration.ofSeconds(3));
    assertEquals("peer-left", next.getString("type"), next.encode());
    assertEquals("p", next.getString("peer"));
    q.close();
  }

  // --- a state change whose Redis write times out but runs ---

  @Test
  @DisplayName("a state change whose Redis write timed out but ran is seen alike by members and newcomers")
  void timedOutStateChangeDoesNotSplitTheRoom() {
    String room = room();
    try (TestPeer b = cluster.join(2, room, "b")) {
      TestPeer a = cluster.join(0, room, "a");
      b.expect("peer-joined");
      cluster.redis(Command.CLIENT, "PAUSE", "1000", "WRITE");
      a.send(new JsonObject().put("type", "state").put("audio", true).put("id", "s"));
      // The first write times out (300 ms); the node writes again until Redis answers.
      JsonObject answer = a.next(Duration.ofSeconds(5));
      assertEquals("ack", answer.getString("type"), answer.encode());
      sleep(200);
      try (TestPeer c = cluster.join(2, room, "c")) {
        JsonObject aInWelcome = c.welcome.getJsonArray("peers").stream().map(JsonObject.class::cast)
            .filter(p -> "a".equals(p.getString("peer"))).findFirst().orElseThrow();
        boolean newcomerSeesAudio = aInWelcome.getJsonObject("state").containsKey("audio");
        List<JsonObject> got = drain(b, 700);
        boolean memberSeesAudio = got.stream().anyMatch(m -> "peer-state".equals(m.getString("type"))
            && "a".equals(m.getString("peer")));
        assertEquals(newcomerSeesAudio, memberSeesAudio,
            "a was told its state was not saved; newcomer c sees " + aInWelcome.getJsonObject("state").encode()
                + " in welcome, member b got:" + types(got));
      }
      a.close();
    }
  }

  // --- a message with an id, then leave ---

  @Test
  @DisplayName("a relay with an id sent just before leave is answered before the socket closes")
  void leaveAnswersRelaysAwaitingAck() {
    String room = room();
    try (LinkGate gate = new LinkGate(cluster.node(2).vertx(), cluster.node(1).nodeId());
         TestPeer bob = cluster.join(2, room, "bob")) {
      TestPeer alice = cluster.join(1, room, "alice");
      bob.expect("peer-joined");
      gate.hold();
      alice.send(offer("bob", "x", "x"));
      bob.expect("offer");
      alice.send(new JsonObject().put("type", "leave").put("id", "l"));
      sleep(300);
      gate.release(); // bob's node's ack for "x" arrives now
      alice.awaitClose();
      List<JsonObject> got = drain(alice, 200);
      assertTrue(got.stream().anyMatch(m -> "x".equals(m.getString("id"))),
          "the offer with id x got neither ack nor error; alice got:" + types(got));
    }
  }
}
