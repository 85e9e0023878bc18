package dev.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.testing.JanusProcess;
import dev.switchboard.testing.TestCluster;
import dev.switchboard.testing.TestPeer;
import dev.switchboard.testing.Waits;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Every refusal of issue 16 in one place, against a real Janus and two nodes: the admin API's
 * refusals of a room configuration, and the WebSocket refusals of joins and media messages, each
 * with the error and close codes of docs/protocol.md ("Error codes", "Close codes"). Three rooms
 * are configured once and used by both sides: a broadcast sfu room, a mesh sfu room and a p2p
 * room. Each refused join must leave nothing behind: the rooms' members in Redis, in the admin API
 * and in Janus (a handle {@code <node>/<room>/<peer>} per member) are the admitted ones only.
 *
 * <p>{@code media: "sfu"} on a node without a media server (400 {@code no-media-server}) is in
 * {@code BroadcastRoomTest.refusals}, whose nodes have none.
 */
class MediaRefusalsTest {

  static final String SECRET = "janus-api-secret-for-tests";
  static final String ADMIN_KEY = "videoroom-admin-key-for-tests";
  static final String KEY = "refusals-admin-key";
  static final String SUFFIX = UUID.randomUUID().toString().substring(0, 8);
  /** Presenter, and viewers up to 3 members in all. */
  static final String BROADCAST = "bc-" + SUFFIX;
  /** Two peers at most. */
  static final String MESH = "mesh-" + SUFFIX;
  static final String P2P = "p2p-" + SUFFIX;

  static JanusProcess janus;
  static TestCluster cluster;
  static String offer;

  @BeforeAll
  static void start() throws Exception {
    janus = JanusProcess.start(SECRET, ADMIN_KEY, 30);
    cluster = TestCluster.start(2, janus.nodeSettings(Map.of("admin-key", KEY)));
    for (String body : List.of(config(BROADCAST, "broadcast", "sfu", 3), config(MESH, "mesh", "sfu", 2),
        config(P2P, "mesh", "p2p", 25))) {
      HttpResponse<String> created = rooms(0, body);
      assertEquals(201, created.statusCode(), created.body());
    }
    // A real browser's offer: were a refused publish passed to Janus, it would be answered.
    offer = new String(MediaRefusalsTest.class.getResourceAsStream("/sdp/publisher-offer.sdp").readAllBytes(),
        StandardCharsets.UTF_8);
  }

  @AfterAll
  static void stop() throws Exception {
    cluster.close();
    janus.close();
  }

  private static String config(String room, String mode, String media, int maxPeers) {
    return new JsonObject().put("room", room).put("mode", mode).put("media", media).put("maxPeers", maxPeers).encode();
  }

  private static HttpResponse<String> rooms(int node, String body) {
    return cluster.http(node, "POST", "/v1/rooms", KEY, body);
  }

  /** {@code body} is refused 400 {@code bad-request}, in JSON, with a message that names {@code field}. */
  private static void badConfig(String body, String field) {
    HttpResponse<String> r = rooms(0, body);
    assertEquals(400, r.statusCode(), body + " -> " + r.body());
    assertEquals("application/json", r.headers().firstValue("content-type").orElse(""));
    JsonObject error = new JsonObject(r.body());
    assertEquals("bad-request", error.getString("error"), body);
    assertTrue(error.getString("message", "").contains(field), body + " -> " + r.body() + ": should name " + field);
  }

  /** {@code GET /v1/rooms/R}'s config, or its status when it is not 200. */
  private static Object configOf(String room) {
    HttpResponse<String> r = cluster.http(1, "GET", "/v1/rooms/" + room, KEY, null);
    return r.statusCode() == 200 ? new JsonObject(r.body()).getJsonObject("config") : r.statusCode();
  }

  @Test
  @DisplayName("POST /v1/rooms: a bad mode, media, maxPeers or room id is 400 naming it, and configures nothing; an existing room is 409")
  void httpRefusals() {
    String fresh = "fresh-" + SUFFIX;
    for (String room : List.of(BROADCAST, fresh)) {
      JsonObject ok = new JsonObject().put("room", room).put("mode", "broadcast").put("media", "sfu");
      badConfig(ok.copy().put("mode", "webinar").encode(), "mode");
      badConfig(ok.copy().put("mode", 1).encode(), "mode");
      badConfig(ok.copy().put("media", "mcu").encode(), "media");
      for (Object maxPeers : List.of(0, -1, "3", 2.5, 10_001, 1L << 32)) {
        badConfig(ok.copy().put("maxPeers", maxPeers).encode(), "maxPeers");
      }
    }
    for (Object room : List.of("bad room", "", "a".repeat(65), "a/b", 42)) {
      badConfig(new JsonObject().put("room", room).put("media", "sfu").encode(), "room");
    }
    badConfig(new JsonObject().put("media", "sfu").encode(), "room");
    assertEquals(404, configOf(fresh), "the refused configurations wrote nothing");
    JsonObject broadcast = new JsonObject().put("mode", "broadcast").put("media", "sfu").put("maxPeers", 3);
    assertEquals(broadcast, configOf(BROADCAST), "nor changed the existing room");
    // The largest maxPeers (10,000; operations.md does not say) is taken: 10,001 was refused for its size.
    assertEquals(201, rooms(0, config(fresh, "mesh", "sfu", 10_000)).statusCode());
    for (int node = 0; node < 2; node++) {
      for (String body : List.of(config(BROADCAST, "broadcast", "sfu", 3), config(BROADCAST, "mesh", "p2p", 9),
          config(MESH, "mesh", "sfu", 2), config(P2P, "broadcast", "sfu", 4))) {
        HttpResponse<String> again = rooms(node, body);
        assertEquals(List.of(409, "exists"),
            List.of(again.statusCode(), new JsonObject(again.body()).getString("error")), body);
      }
    }
    assertEquals(broadcast, configOf(BROADCAST), "a 409 leaves the room as it was");
    assertEquals(new JsonObject().put("mode", "mesh").put("media", "p2p").put("maxPeers", 25), configOf(P2P));
  }

  private static JsonObject joinMessage(String room, String peer, Object role) {
    JsonObject join = new JsonObject().put("type", "join").put("room", room).put("peer", peer).put("id", "j-" + peer);
    return role == null ? join : join.put("role", role);
  }

  /** A join on node {@code node} is refused: error {@code code} with the join's id, then close {@code close}. */
  private static void refusedJoin(int node, String room, String peer, Object role, String code, int close) {
    TestPeer p = cluster.connect(node);
    p.send(joinMessage(room, peer, role));
    JsonObject error = p.next();
    List<Object> seen = List.of(error.getString("type"), String.valueOf(error.getString("code")),
        String.valueOf(error.getValue("id")), (int) p.awaitClose());
    assertEquals(List.of("error", code, "j-" + peer, close), seen, "join of " + peer + " as " + role + " in " + room
        + " on node " + node + ": " + error.encode());
  }

  /**
   * {@code message} (given the id {@code id}) is refused with {@code code} and its id; the socket
   * stays open: a {@code ping} after it gets its {@code pong}.
   */
  private static void refused(TestPeer p, JsonObject message, String id, String code) {
    p.send(message.put("id", id));
    JsonObject error = p.expectPast("error");
    assertEquals(List.of(code, id), List.of(error.getString("code"), String.valueOf(error.getValue("id"))),
        message.getString("type") + ": " + error.encode());
    p.send(new JsonObject().put("type", "ping").put("id", "after-" + id));
    assertEquals("after-" + id, p.expectPast("pong").getString("id"), "still open after the refused " + id);
    assertFalse(p.isClosed());
  }

  /**
   * The room's members are exactly {@code members} (peer to node index): in Redis, in
   * {@code GET /v1/rooms/R}, and in Janus, one handle each for an sfu room and none for a p2p one.
   */
  private static void assertMembers(String room, boolean sfu, Map<String, Integer> members) {
    Map<String, String> expected = new TreeMap<>();
    members.forEach((peer, node) -> expected.put(peer, cluster.node(node).nodeId()));
    List<String> inRedis = Waits.until(3000, () -> cluster.redis(Command.HKEYS, "sb:{" + room + "}:peers").stream()
        .map(Object::toString).sorted().toList(), List.copyOf(expected.keySet()));
    assertEquals(List.copyOf(expected.keySet()), inRedis, "members in Redis");
    Map<String, String> listed = new TreeMap<>();
    new JsonObject(cluster.http(0, "GET", "/v1/rooms/" + room, KEY, null).body()).getJsonArray("peers")
        .forEach(p -> listed.put(((JsonObject) p).getString("peer"), ((JsonObject) p).getString("node")));
    assertEquals(expected, listed, "members in the admin API");
    List<String> handles = sfu ? expected.entrySet().stream().map(e -> e.getValue() + "/" + room + "/" + e.getKey())
        .sorted().toList() : List.of();
    assertEquals(handles, Waits.until(3000, () -> janus.opaqueIds(cluster.clientVertx()).stream()
        .filter(id -> id.contains("/" + room + "/")).toList(), handles), "handles in Janus");
  }

  @Test
  @DisplayName("broadcast sfu room: wrong and unknown roles (4400), a second presenter on either node (4403), a full room (4503), a viewer's publish and message to a viewer (forbidden, socket open), a subscribe-answer before any offer")
  void broadcastRoom() {
    TestPeer presenter = cluster.join(0, BROADCAST, "presenter", "presenter");
    refusedJoin(0, BROADCAST, "peer", "peer", "bad-request", 4400);
    refusedJoin(0, BROADCAST, "second", "presenter", "presenter-taken", 4403);
    refusedJoin(1, BROADCAST, "third", "presenter", "presenter-taken", 4403);
    refusedJoin(1, BROADCAST, "admin", "admin", "bad-request", 4400);
    refusedJoin(0, BROADCAST, "number", 1, "bad-request", 4400);
    TestPeer v1 = cluster.join(0, BROADCAST, "v1", "viewer");
    TestPeer v2 = cluster.join(1, BROADCAST, "v2", null); // naming no role: the broadcast room's default, viewer
    // 3 members over both nodes: full, whichever node the next one comes through.
    refusedJoin(0, BROADCAST, "v3", "viewer", "room-full", 4503);
    refusedJoin(1, BROADCAST, "v4", "viewer", "room-full", 4503);

    refused(v1, new JsonObject().put("type", "publish").put("sdp", offer), "pub", "forbidden");
    refused(v1, new JsonObject().put("type", "message").put("to", "v2").put("data", "psst"), "m-v2", "forbidden");
    refused(v2, new JsonObject().put("type", "publish").put("sdp", offer), "pub2", "forbidden");
    // Nor anything else about a publishing connection a viewer does not have.
    refused(v1, new JsonObject().put("type", "unpublish"), "unpub", "forbidden");
    refused(v1, new JsonObject().put("type", "trickle").put("pc", "publish").putNull("candidate"), "tp", "forbidden");
    v1.send(new JsonObject().put("type", "message").put("to", "presenter").put("data", "hi").put("id", "m-p"));
    assertEquals("m-p", v1.expectPast("ack").getString("id"), "the presenter may be messaged");
    assertEquals("hi", presenter.expectPast("message").getString("data"));
    // Nobody publishes: no subscribe-offer was sent, so there is nothing to answer.
    refused(v2, new JsonObject().put("type", "subscribe-answer").put("sdp", "v=0"), "sa", "bad-request");
    refused(v2, new JsonObject().put("type", "trickle").put("pc", "subscribe").putNull("candidate"), "ts",
        "bad-request");
    // v1's refused message to v2 was not passed on: v1 had its pong after the refusal, so it would be here by now.
    v2.expectNothing(200);
    assertMembers(BROADCAST, true, Map.of("presenter", 0, "v1", 0, "v2", 1));

    // The room was full by its members' count: one leaving makes room for one more.
    v2.send(new JsonObject().put("type", "leave"));
    assertEquals(1000, v2.awaitClose());
    cluster.join(1, BROADCAST, "v3", "viewer");
    assertMembers(BROADCAST, true, Map.of("presenter", 0, "v1", 0, "v3", 1));
  }

  @Test
  @DisplayName("mesh sfu room: presenter and viewer roles are bad-request (4400); full at maxPeers counted over both nodes (room-full, 4503); a subscribe-answer before any offer is bad-request")
  void meshRoom() {
    TestPeer a = cluster.join(0, MESH, "a", null);
    refusedJoin(1, MESH, "p", "presenter", "bad-request", 4400);
    refusedJoin(0, MESH, "v", "viewer", "bad-request", 4400);
    cluster.join(1, MESH, "b", "peer");
    // One member on each node: only the cluster-wide count (2) makes it full.
    refusedJoin(0, MESH, "c", null, "room-full", 4503);
    refusedJoin(1, MESH, "d", null, "room-full", 4503);
    refused(a, new JsonObject().put("type", "subscribe-answer").put("sdp", "v=0"), "sa", "bad-request");
    assertMembers(MESH, true, Map.of("a", 0, "b", 1));
  }

  @Test
  @DisplayName("p2p room: publish, unpublish, subscribe-answer and trickle are bad-request (socket open), and nothing reaches Janus")
  void p2pRoom() {
    TestPeer a = cluster.join(0, P2P, "a", null);
    cluster.join(1, P2P, "b", null);
    refused(a, new JsonObject().put("type", "publish").put("sdp", offer), "pub", "bad-request");
    refused(a, new JsonObject().put("type", "unpublish"), "unpub", "bad-request");
    refused(a, new JsonObject().put("type", "subscribe-answer").put("sdp", "v=0"), "sa", "bad-request");
    for (String pc : List.of("publish", "subscribe")) {
      refused(a, new JsonObject().put("type", "trickle").put("pc", pc).put("candidate", new JsonObject()
          .put("candidate", "candidate:1 1 udp 2122260223 127.0.0.1 54400 typ host").put("sdpMid", "0")), "t-" + pc,
          "bad-request");
    }
    assertMembers(P2P, false, Map.of("a", 0, "b", 1));
  }
}
