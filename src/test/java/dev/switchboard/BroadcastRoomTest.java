package dev.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.switchboard.testing.TestCluster;
import dev.switchboard.testing.TestPeer;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Broadcast rooms with peer-to-peer media, on a real two-node cluster: created over HTTP, one
 * presenter and viewers spread over both nodes. Viewers see and signal only the presenter, the
 * presenter sees and signals everyone, and the room ends for the viewers when the presenter
 * leaves. Roles that do not fit the room are refused.
 */
class BroadcastRoomTest {

  static final String KEY = "broadcast-admin-key";
  static TestCluster cluster;
  static final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start() {
    cluster = TestCluster.start(2, Map.of("admin-key", KEY));
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  private static HttpResponse<String> createRoom(String body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + cluster.port(0) + "/v1/rooms"))
        .header("Authorization", "Bearer " + KEY).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static String broadcastRoom(int maxPeers) throws Exception {
    String room = "live-" + UUID.randomUUID().toString().substring(0, 8);
    HttpResponse<String> created = createRoom("{\"room\":\"" + room + "\",\"mode\":\"broadcast\",\"maxPeers\":"
        + maxPeers + "}");
    assertEquals(201, created.statusCode(), created.body());
    assertEquals(new JsonObject().put("mode", "broadcast").put("media", "p2p").put("maxPeers", maxPeers),
        new JsonObject(created.body()).getJsonObject("config"));
    return room;
  }

  /** {@code role} null: the join names none, and gets the room's default. */
  private static TestPeer join(int node, String room, String peer, String role) {
    TestPeer p = cluster.connect(node);
    JsonObject join = new JsonObject().put("type", "join").put("room", room).put("peer", peer);
    p.send(role == null ? join : join.put("role", role));
    p.welcome = p.expect("welcome");
    return p;
  }

  private static List<String> peersOf(JsonObject welcome) {
    return welcome.getJsonArray("peers").stream().map(p -> ((JsonObject) p).getString("peer")).sorted().toList();
  }

  private static JsonObject message(String to, String data, String id) {
    JsonObject m = new JsonObject().put("type", "message").put("data", data).put("id", id);
    return to == null ? m : m.put("to", to);
  }

  @Test
  @DisplayName("viewers see and signal only the presenter, across nodes; the presenter sees and signals every viewer")
  void viewersSeeOnlyThePresenter() throws Exception {
    String room = broadcastRoom(10);
    TestPeer early = join(1, room, "early", "viewer"); // before the presenter
    assertEquals(List.of(), peersOf(early.welcome));
    TestPeer presenter = join(0, room, "presenter", "presenter");
    assertEquals(List.of("early"), peersOf(presenter.welcome));
    assertEquals("presenter", early.expect("peer-joined").getString("peer"));
    TestPeer v1 = join(0, room, "v1", "viewer");
    TestPeer v2 = join(1, room, "v2", null); // a join naming no role is a broadcast room's viewer
    assertEquals(List.of("presenter"), peersOf(v1.welcome));
    assertEquals(List.of("presenter"), peersOf(v2.welcome));
    assertEquals(List.of("broadcast", "p2p"), List.of(v2.welcome.getString("mode"), v2.welcome.getString("media")));
    assertFalse(v2.welcome.containsKey("publishers"), "a p2p room has no media server to publish through");
    List<JsonObject> joined = List.of(presenter.expect("peer-joined"), presenter.expect("peer-joined"));
    assertEquals(List.of("v1:viewer", "v2:viewer"), joined.stream()
        .map(j -> j.getString("peer") + ":" + j.getString("role")).toList());
    early.expectNothing(300); // no other viewer's join

    // Presenter to a viewer, a viewer to the presenter, across nodes.
    presenter.send(new JsonObject().put("type", "offer").put("to", "v2").put("sdp", "v=0 p").put("id", "o1"));
    assertEquals("v=0 p", v2.expect("offer").getString("sdp"));
    assertEquals("o1", presenter.expect("ack").getString("id"));
    v2.send(new JsonObject().put("type", "answer").put("to", "presenter").put("sdp", "v=0 a").put("id", "a1"));
    assertEquals("v=0 a", presenter.expect("answer").getString("sdp"));
    assertEquals("a1", v2.expect("ack").getString("id"));

    // A viewer cannot signal another viewer; its room-wide message reaches the presenter only.
    v1.send(new JsonObject().put("type", "offer").put("to", "v2").put("sdp", "v=0 x").put("id", "o2"));
    JsonObject refused = v1.expect("error");
    assertEquals(List.of("forbidden", "o2"), List.of(refused.getString("code"), refused.getString("id")));
    v1.send(message(null, "hello room", "m1"));
    assertEquals("m1", v1.expect("ack").getString("id"));
    assertEquals("hello room", presenter.expect("message").getString("data"));
    v1.send(new JsonObject().put("type", "state").put("state", new JsonObject().put("audio", false)).put("id", "s1"));
    assertEquals("s1", v1.expect("ack").getString("id"));
    assertEquals("v1", presenter.expect("peer-state").getString("peer"));
    presenter.send(message(null, "hello viewers", "m2"));
    assertEquals("m2", presenter.expect("ack").getString("id"));
    for (TestPeer v : List.of(early, v1, v2)) {
      assertEquals("hello viewers", v.expect("message").getString("data"));
    }
    // Viewers leaving are seen by the presenter only.
    v1.send(new JsonObject().put("type", "leave"));
    assertEquals("v1", presenter.expect("peer-left").getString("peer"));
    for (TestPeer v : List.of(early, v2)) {
      v.expectNothing(300);
    }
  }

  @Test
  @DisplayName("the presenter leaving ends the room for every viewer: room-closed, then close 1000")
  void presenterLeavingClosesTheRoom() throws Exception {
    String room = broadcastRoom(10);
    TestPeer presenter = join(0, room, "presenter", "presenter");
    List<TestPeer> viewers = List.of(join(0, room, "v1", "viewer"), join(1, room, "v2", "viewer"),
        join(1, room, "v3", "viewer"));
    presenter.send(new JsonObject().put("type", "leave"));
    for (TestPeer v : viewers) {
      JsonObject closed = v.expect("room-closed");
      assertEquals("the presenter left", closed.getString("reason"));
      assertEquals(1000, v.awaitClose());
    }
    TestPeer next = join(1, room, "next", "presenter");
    assertEquals(List.of(), peersOf(next.welcome), "the viewers left with the room; a new presenter may start again");
  }

  @Test
  @DisplayName("roles that do not fit are refused: a second presenter (4403), a peer in a broadcast room and a viewer in a mesh room (4400), a full room")
  void refusals() throws Exception {
    String room = broadcastRoom(2);
    join(0, room, "presenter", "presenter");
    TestPeer second = cluster.connect(1);
    second.send(new JsonObject().put("type", "join").put("room", room).put("peer", "second").put("role", "presenter"));
    assertEquals("presenter-taken", second.expect("error").getString("code"));
    assertEquals(4403, second.awaitClose());
    TestPeer plain = cluster.connect(0);
    plain.send(new JsonObject().put("type", "join").put("room", room).put("peer", "plain").put("role", "peer"));
    assertEquals("bad-request", plain.expect("error").getString("code"));
    assertEquals(4400, plain.awaitClose());
    join(1, room, "v1", "viewer");
    TestPeer full = cluster.connect(1);
    full.send(new JsonObject().put("type", "join").put("room", room).put("peer", "v2").put("role", "viewer"));
    assertEquals("room-full", full.expect("error").getString("code"));
    TestPeer meshViewer = cluster.connect(0);
    meshViewer.send(new JsonObject().put("type", "join").put("room", "mesh-" + room).put("peer", "v")
        .put("role", "viewer"));
    assertEquals("bad-request", meshViewer.expect("error").getString("code"));
    assertEquals(4400, meshViewer.awaitClose());
    assertEquals(409, createRoom("{\"room\":\"" + room + "\",\"mode\":\"broadcast\"}").statusCode());
    HttpResponse<String> sfu = createRoom("{\"room\":\"other\",\"mode\":\"broadcast\",\"media\":\"sfu\"}");
    assertEquals(400, sfu.statusCode());
    assertEquals("no-media-server", new JsonObject(sfu.body()).getString("error"));
  }
}
