package dev.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.testing.JanusProcess;
import dev.switchboard.testing.RawSocketPeer;
import dev.switchboard.testing.TestCluster;
import dev.switchboard.testing.TestPeer;
import dev.switchboard.testing.Waits;
import dev.switchboard.transport.Refusal;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * A member of an sfu room whose socket dies without {@code leave} gives its place in the media
 * room back: its Janus handle ({@code <node>/<room>/<peer>}) is detached, the others get
 * {@code peer-left}, and {@code /metrics} counts the release. A TCP connection cut under the
 * socket, a client that stops answering pings, and sockets that go while their join is in flight.
 *
 * <p>Not in MediaRoomTest: these nodes ping every 200 ms and close a socket silent for 1.5 s, so
 * that a dead client is found in about two seconds; MediaRoomTest's keep the defaults (15 s, 30 s)
 * so that a slow machine never closes its healthy sockets.
 *
 * <p>Resume stays off, as on every test cluster ({@link TestCluster#NO_RESUME}): with it on, a
 * dead socket's peer would be held for {@code limits.resume-window} first, and its handle kept
 * for the resume, before any of this happens.
 */
class MediaDeadSocketTest {

  static final String SECRET = "janus-api-secret-for-tests";
  static final String ADMIN_KEY = "videoroom-admin-key-for-tests";
  static final String KEY = "dead-socket-admin-key";
  static final long PING_MS = 200;
  static final long PONG_TIMEOUT_MS = 1500;
  static final String JOINED = "switchboard_media_participants_joined_total";
  static final String RELEASED = "switchboard_media_participants_released_total";

  static JanusProcess janus;
  static TestCluster cluster;

  @BeforeAll
  static void start() throws Exception {
    janus = JanusProcess.start(SECRET, ADMIN_KEY, 30);
    cluster = TestCluster.start(2, janus.nodeSettings(Map.of("admin-key", KEY,
        "limits-ping-interval", PING_MS + "ms", "limits-pong-timeout", PONG_TIMEOUT_MS + "ms")));
  }

  @AfterAll
  static void stop() throws Exception {
    cluster.close();
    janus.close();
  }

  private static String sfuRoom() {
    String room = "dead-" + UUID.randomUUID().toString().substring(0, 8);
    HttpResponse<String> created = cluster.http(0, "POST", "/v1/rooms", KEY,
        new JsonObject().put("room", room).put("media", "sfu").encode());
    assertEquals(201, created.statusCode(), created.body());
    return room;
  }

  /** The handle Janus holds for {@code peer} of {@code room}, joined through node {@code node}. */
  private static String handle(int node, String room, String peer) {
    return cluster.node(node).nodeId() + "/" + room + "/" + peer;
  }

  /** The {@code opaque_id}s of the handles Janus holds for {@code room}'s members. */
  private static List<String> handlesOf(String room) {
    return janus.opaqueIds(cluster.clientVertx()).stream().filter(id -> id.contains("/" + room + "/")).toList();
  }

  @Test
  @DisplayName("a client that reads but never answers a ping is closed 4410 after the pong timeout: its handle is detached, the others see peer-left timeout, /metrics counts the release")
  void pongTimeoutReleasesTheHandle() throws Exception {
    String room = sfuRoom();
    long joined = cluster.metric(JOINED);
    long released = cluster.metric(RELEASED);
    long timeouts = cluster.node(1).refusals().get(Refusal.PONG_TIMEOUT);
    TestPeer alice = cluster.join(0, room, "alice", null);
    try (RawSocketPeer bob = RawSocketPeer.connect(cluster.port(1))) {
      bob.sendText(new JsonObject().put("type", "join").put("room", room).put("peer", "bob").encode());
      long silentFrom = System.nanoTime(); // the join is the last thing bob ever sends
      RawSocketPeer.Frame frame = bob.readFrame(5000);
      int pings = 0;
      for (; frame.opcode() == RawSocketPeer.Frame.PING; frame = bob.readFrame(5000)) {
        pings++;
      }
      assertEquals("welcome", new JsonObject(frame.text()).getString("type"), frame.text());
      assertEquals("bob", alice.expect("peer-joined").getString("peer"));
      assertEquals(List.of(handle(0, room, "alice"), handle(1, room, "bob")), handlesOf(room));
      assertEquals(joined + 2, cluster.metric(JOINED));

      // bob keeps reading everything and answers nothing, until the node closes it.
      for (frame = bob.readFrame(PONG_TIMEOUT_MS + 5000); frame.opcode() != RawSocketPeer.Frame.CLOSE;
           frame = bob.readFrame(PONG_TIMEOUT_MS + 5000)) {
        assertEquals(RawSocketPeer.Frame.PING, frame.opcode(), "nothing but pings for a silent bob: " + frame.text());
        pings++;
      }
      long tookMs = (System.nanoTime() - silentFrom) / 1_000_000;
      System.out.printf("media heartbeat: silent peer closed after %d ms, %d pings unanswered (pong timeout %d ms,"
          + " ping every %d ms)%n", tookMs, pings, PONG_TIMEOUT_MS, PING_MS);
      assertEquals(4410, frame.closeCode(), "protocol.md, Close codes: 4410, nothing arrived for the pong timeout");
      assertTrue(pings >= 2, "the node pinged bob, unanswered, before giving up: " + pings);
      assertTrue(tookMs >= PONG_TIMEOUT_MS - 50, "not before the pong timeout: " + tookMs + " ms");
      // Within one more interval, as protocol.md says, plus room for a loaded machine.
      assertTrue(tookMs <= PONG_TIMEOUT_MS + PING_MS + 2000, "bounded: " + tookMs + " ms");
      assertEquals(timeouts + 1, cluster.node(1).refusals().get(Refusal.PONG_TIMEOUT));
    }
    JsonObject left = alice.expect("peer-left");
    assertEquals(List.of("bob", "timeout"), List.of(left.getString("peer"), left.getString("reason")), left.encode());
    assertEquals(List.of(handle(0, room, "alice")), Waits.until(3000, () -> handlesOf(room),
        List.of(handle(0, room, "alice"))), "bob's handle is detached; alice's stays");
    assertEquals(released + 1, Waits.until(3000, () -> cluster.metric(RELEASED), released + 1));
    assertEquals(joined + 2, cluster.metric(JOINED));
  }

  @Test
  @DisplayName("a TCP connection cut under a member's socket (no close handshake) detaches its handle: peer-left disconnected, /metrics counts the release")
  void abruptDropReleasesTheHandle() {
    String room = sfuRoom();
    long released = cluster.metric(RELEASED);
    TestPeer alice = cluster.join(0, room, "alice", null);
    TestPeer carol = cluster.join(1, room, "carol", null);
    assertEquals(List.of(handle(0, room, "alice"), handle(1, room, "carol")), handlesOf(room));
    carol.drop();
    JsonObject left = alice.expectPast("peer-left");
    assertEquals(List.of("carol", "disconnected"), List.of(left.getString("peer"), left.getString("reason")),
        left.encode());
    assertEquals(List.of(handle(0, room, "alice")), Waits.until(3000, () -> handlesOf(room),
        List.of(handle(0, room, "alice"))), "carol's handle is detached; alice's stays");
    assertEquals(released + 1, Waits.until(3000, () -> cluster.metric(RELEASED), released + 1));
  }

  @Test
  @DisplayName("sockets that close right after their join, while it is in flight, leave no member and no handle behind")
  void socketsGoneDuringTheirJoin() throws Exception {
    String room = sfuRoom();
    long joined = cluster.metric(JOINED);
    long released = cluster.metric(RELEASED);
    TestPeer alice = cluster.join(0, room, "alice", null);
    for (int i = 0; i < 6; i++) {
      try (RawSocketPeer ghost = RawSocketPeer.connect(cluster.port(i % 2))) {
        ghost.sendText(new JsonObject().put("type", "join").put("room", room).put("peer", "ghost" + i).encode());
      } // closed at once, without waiting for the welcome: the join is in the store or the media server
    }
    assertEquals(List.of("alice"), Waits.until(5000, () -> cluster.redis(Command.HKEYS, "sb:{" + room + "}:peers")
        .stream().map(Object::toString).toList(), List.of("alice")), "the ghosts left the room");
    assertEquals(List.of(handle(0, room, "alice")), Waits.until(5000, () -> handlesOf(room),
        List.of(handle(0, room, "alice"))), "no ghost's handle stays in Janus");
    System.out.printf("media ghosts: %d of 6 were joined to the media room (their close came while the join"
        + " was in flight)%n",
        cluster.metric(JOINED) - joined - 1);
    // Each ghost whose media join happened was released: the nodes hold alice's handle only.
    assertEquals(1L, Waits.until(5000, () -> (cluster.metric(JOINED) - joined) - (cluster.metric(RELEASED) - released),
        1L));
    // alice may have seen a ghost come (if it was welcomed before its socket's close was read), but
    // then it saw it go: a ping's pong comes after everything the node had for alice before it.
    alice.send(new JsonObject().put("type", "ping").put("id", "p"));
    java.util.Set<String> present = new java.util.TreeSet<>();
    for (JsonObject m = alice.next(); !"pong".equals(m.getString("type")); m = alice.next()) {
      if ("peer-joined".equals(m.getString("type"))) {
        present.add(m.getString("peer"));
      } else {
        assertEquals("peer-left", m.getString("type"), m.encode());
        present.remove(m.getString("peer"));
      }
    }
    assertEquals(java.util.Set.of(), present, "ghosts alice was told of and never saw leave");
  }
}
