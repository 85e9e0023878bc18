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
 * Races on the ordering and failure paths that need a real three-node cluster and a real Redis:
 * the rest are scripts in {@code room.RoomRacesTest}, without Redis, Hazelcast or sleeps.
 *
 * <p>Node 0 gives Redis 300 ms per command, so that a Redis that does not answer (here: paused
 * with CLIENT PAUSE ... WRITE, which holds every script) makes its joins and leaves fail fast;
 * nodes 1 and 2 wait 5 s.
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


  // --- a peer that leaves and rejoins on the same node at once ---

  @Test
  @DisplayName("a peer that leaves and rejoins on the same node at once gets every relay sent to it")
  void rejoinAtOnceGetsEveryRelay() {
    String room = room();
    try (TestPeer bob = cluster.join(1, room, "bob")) {
      TestPeer alice = cluster.join(1, room, "alice");
      bob.expect("peer-joined");
      alice.send(new JsonObject().put("type", "leave"));
      alice.awaitClose();
      bob.expect("peer-left");
      // A page reload: the same peer id comes back through the same node at once.
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
    // Real Redis ordering is the point here (the scripted version is RoomRacesTest): p's join
    // must be queued in the paused Redis before q's. A pause, not a signal: nothing observable
    // tells the test that a paused Redis has queued a command.
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
}
