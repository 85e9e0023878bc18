package dev.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.config.Config;
import dev.switchboard.media.JanusHandle;
import dev.switchboard.media.JanusLink;
import dev.switchboard.media.VideoRooms;
import dev.switchboard.testing.JanusProcess;
import dev.switchboard.testing.TestCluster;
import dev.switchboard.testing.TestPeer;
import dev.switchboard.testing.Waits;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Rooms whose media goes through a real Janus, at the level of its API (no browser): two nodes
 * share one media room per Switchboard room, each peer is a participant named after it, and the
 * media room and participants are released when the peers leave, drop, or the room is ended.
 * The test watches Janus through a link of its own.
 */
class MediaRoomTest {

  static final String SECRET = "janus-api-secret-for-tests";
  static final String ADMIN_KEY = "videoroom-admin-key-for-tests";
  static final String KEY = "media-admin-key";

  static JanusProcess janus;
  static TestCluster cluster;
  static Vertx vertx;
  static VideoRooms watch;

  @BeforeAll
  static void start() throws Exception {
    janus = JanusProcess.start(SECRET, ADMIN_KEY, 30);
    cluster = TestCluster.start(2, janus.nodeSettings(Map.of("admin-key", KEY)));
    vertx = Vertx.vertx();
    JanusLink link = new JanusLink(vertx, new Config.Media(janus.url(), SECRET, ADMIN_KEY, Duration.ofSeconds(2),
        Duration.ofSeconds(10)), why -> { });
    link.open().await();
    watch = new VideoRooms(link.attach(VideoRooms.PLUGIN, "test/watch", JanusHandle.Listener.ignoring()).await(),
        ADMIN_KEY);
  }

  @AfterAll
  static void stop() throws Exception {
    cluster.close();
    vertx.close().await();
    janus.close();
  }

  private static HttpResponse<String> admin(String method, String path, String body) {
    return cluster.http(0, method, path, KEY, body);
  }

  private static String sfuRoom(String mode) throws Exception {
    String room = "sfu-" + UUID.randomUUID().toString().substring(0, 8);
    HttpResponse<String> created = admin("POST", "/v1/rooms", "{\"room\":\"" + room + "\",\"mode\":\"" + mode
        + "\",\"media\":\"sfu\"}");
    assertEquals(201, created.statusCode(), created.body());
    assertEquals("sfu", new JsonObject(created.body()).getJsonObject("config").getString("media"));
    return room;
  }

  /** The ids of the media room's participants, sorted; empty if the media room is gone. */
  private static List<String> participants(String room) {
    if (!watch.exists(room).await()) {
      return List.of();
    }
    return watch.participants(room).await().stream().map(VideoRooms.Participant::id).sorted().toList();
  }

  @Test
  @DisplayName("peers on two nodes share one media room, each a participant named after it; leaving and dropping release them; the last one's leave destroys the media room")
  void participantsFollowTheRoom() throws Exception {
    String room = sfuRoom("mesh");
    TestPeer a = cluster.join(0, room, "a", null);
    TestPeer b = cluster.join(1, room, "b", null);
    TestPeer c = cluster.join(1, room, "c", null);
    assertEquals(List.of("a", "b", "c"), participants(room));
    b.send(new JsonObject().put("type", "leave"));
    assertEquals(List.of("a", "c"), Waits.until(3000, () -> participants(room), List.of("a", "c")));
    c.close(); // abrupt: no leave (resume is off on these nodes, so the peer leaves at once)
    assertEquals(List.of("a"), Waits.until(3000, () -> participants(room), List.of("a")));
    a.send(new JsonObject().put("type", "leave"));
    assertEquals(false, Waits.until(3000, () -> watch.exists(room).await(), false), "the last leave destroyed it");
  }

  /** The {@code opaque_id}s of the handles Janus holds for {@code room}'s members. */
  private static List<String> handlesOf(String room) {
    return janus.opaqueIds(vertx).stream().filter(id -> id.contains("/" + room + "/")).toList();
  }

  @Test
  @DisplayName("each member's handle is named <node>/<room>/<peer> in Janus, and /metrics counts what was joined and released")
  void handlesAreNamedAndCounted() throws Exception {
    long joined = cluster.metric("switchboard_media_participants_joined_total");
    long released = cluster.metric("switchboard_media_participants_released_total");
    long created = cluster.metric("switchboard_media_rooms_started_total");
    long destroyed = cluster.metric("switchboard_media_rooms_destroyed_total");
    String room = sfuRoom("mesh");
    TestPeer a = cluster.join(0, room, "a", null);
    TestPeer b = cluster.join(1, room, "b", null);
    assertEquals(List.of(cluster.node(0).config().nodeId() + "/" + room + "/a",
        cluster.node(1).config().nodeId() + "/" + room + "/b"), handlesOf(room));
    assertEquals(List.of(joined + 2, created + 1), List.of(
        cluster.metric("switchboard_media_participants_joined_total"),
        cluster.metric("switchboard_media_rooms_started_total")));
    a.send(new JsonObject().put("type", "leave"));
    b.close();
    assertFalse(Waits.until(3000, () -> watch.exists(room).await(), false));
    assertEquals(List.of(released + 2, destroyed + 1), Waits.until(3000, () -> List.of(
        cluster.metric("switchboard_media_participants_released_total"),
        cluster.metric("switchboard_media_rooms_destroyed_total")), List.of(released + 2, destroyed + 1)));
    assertEquals(List.of(), Waits.until(3000, () -> handlesOf(room), List.of()),
        "no handle of the room is left in Janus");
  }

  @Test
  @DisplayName("a member publishes through its node: its offer gets the media server's answer; refusals name what to fix")
  void publish() throws Exception {
    String offer = new String(MediaRoomTest.class.getResourceAsStream("/sdp/publisher-offer.sdp").readAllBytes(),
        java.nio.charset.StandardCharsets.UTF_8);
    String room = sfuRoom("broadcast");
    TestPeer presenter = cluster.join(0, room, "presenter", "presenter");
    TestPeer viewer = cluster.join(1, room, "v", "viewer");
    assertEquals(List.of("broadcast", "sfu", List.of()), List.of(viewer.welcome.getString("mode"),
        viewer.welcome.getString("media"), viewer.welcome.getJsonArray("publishers").getList()),
        "an sfu room's welcome says who publishes: no one yet");
    presenter.send(new JsonObject().put("type", "unpublish").put("id", "u0"));
    JsonObject nothing = presenter.expectPast("error");
    assertEquals(List.of("bad-request", "u0"), List.of(nothing.getString("code"), nothing.getString("id")),
        "nothing published yet: " + nothing.getString("message"));
    presenter.send(new JsonObject().put("type", "publish").put("sdp", offer).put("id", "p1"));
    JsonObject answer = presenter.expectPast("publish-answer");
    assertEquals("p1", answer.getString("id"));
    String sdp = answer.getString("sdp");
    assertTrue(sdp.startsWith("v=0") && sdp.contains("a=recvonly") && sdp.contains("a=candidate"),
        "Janus's answer, receiving, with its candidates: " + sdp);
    presenter.send(new JsonObject().put("type", "trickle").put("pc", "publish").putNull("candidate").put("id", "t1"));
    assertEquals("t1", presenter.expectPast("ack").getString("id"));
    presenter.send(new JsonObject().put("type", "publish").put("sdp", offer).put("id", "p1b"));
    JsonObject again = presenter.expectPast("publish-answer");
    assertTrue("p1b".equals(again.getString("id")) && again.getString("sdp").startsWith("v=0"),
        "publishing again renegotiates (VideoRoom's configure): " + again.encode());
    viewer.send(new JsonObject().put("type", "publish").put("sdp", offer).put("id", "p2"));
    assertEquals("forbidden", viewer.expectPast("error").getString("code"));
    viewer.send(new JsonObject().put("type", "trickle").put("pc", "subscribe").putNull("candidate").put("id", "t2"));
    assertEquals("bad-request", viewer.expectPast("error").getString("code"));
    presenter.send(new JsonObject().put("type", "publish").put("sdp", "v=0 not an sdp").put("id", "p3"));
    JsonObject refused = presenter.expectPast("error");
    assertEquals(List.of("bad-request", "p3"), List.of(refused.getString("code"), refused.getString("id")));
    TestPeer p2p = cluster.join(0, "p2p-" + room, "a", null);
    p2p.send(new JsonObject().put("type", "publish").put("sdp", offer).put("id", "p4"));
    assertEquals("bad-request", p2p.expectPast("error").getString("code"));
  }

  @Test
  @DisplayName("peers joining a new sfu room on both nodes at once end in one media room, all of them in it")
  void racingJoins() throws Exception {
    List<String> rooms = new ArrayList<>();
    List<CompletableFuture<TestPeer>> joins = new ArrayList<>();
    for (int r = 0; r < 5; r++) {
      String room = sfuRoom("mesh");
      rooms.add(room);
      for (int i = 0; i < 4; i++) {
        int node = i % 2;
        String peer = "p" + i;
        joins.add(CompletableFuture.supplyAsync(() -> cluster.join(node, room, peer, null)));
      }
    }
    List<TestPeer> peers = joins.stream().map(CompletableFuture::join).toList();
    for (String room : rooms) {
      assertEquals(List.of("p0", "p1", "p2", "p3"), participants(room), room);
    }
    peers.forEach(p -> p.send(new JsonObject().put("type", "leave")));
    for (String room : rooms) {
      assertFalse(Waits.until(3000, () -> watch.exists(room).await(), false), room + " destroyed once emptied");
    }
  }

  @Test
  @DisplayName("DELETE /v1/rooms/R ends the room: room-closed for its peers, and its media room destroyed at once")
  void deleteDestroysTheMediaRoom() throws Exception {
    String room = sfuRoom("mesh");
    TestPeer a = cluster.join(0, room, "a", null);
    TestPeer b = cluster.join(1, room, "b", null);
    assertTrue(watch.exists(room).await());
    assertEquals(200, admin("DELETE", "/v1/rooms/" + room, null).statusCode());
    for (TestPeer p : List.of(a, b)) {
      p.expectPast("room-closed");
    }
    assertFalse(Waits.until(3000, () -> watch.exists(room).await(), false));
  }

  @Test
  @DisplayName("a kicked member's handle is released; kicking the last one destroys the media room")
  void kickReleasesTheHandle() throws Exception {
    String room = sfuRoom("mesh");
    TestPeer a = cluster.join(0, room, "a", null);
    TestPeer b = cluster.join(1, room, "b", null);
    assertEquals(200, admin("DELETE", "/v1/rooms/" + room + "/peers/b", null).statusCode());
    assertEquals(4406, b.awaitClose());
    assertEquals(List.of(cluster.node(0).config().nodeId() + "/" + room + "/a"),
        Waits.until(3000, () -> handlesOf(room), List.of(cluster.node(0).config().nodeId() + "/" + room + "/a")));
    assertEquals(200, admin("DELETE", "/v1/rooms/" + room + "/peers/a", null).statusCode());
    assertEquals(4406, a.awaitClose());
    assertFalse(Waits.until(3000, () -> watch.exists(room).await(), false), "the last member's kick emptied it");
    assertEquals(List.of(), handlesOf(room));
  }

  @Test
  @DisplayName("a broadcast's presenter leaving ends it: every viewer gets room-closed, and the media room is destroyed")
  void presenterLeavingDestroysTheMediaRoom() throws Exception {
    String room = sfuRoom("broadcast");
    TestPeer presenter = cluster.join(0, room, "presenter", "presenter");
    List<TestPeer> viewers = List.of(cluster.join(0, room, "v1", "viewer"), cluster.join(1, room, "v2", "viewer"));
    assertEquals(List.of("presenter", "v1", "v2"), participants(room));
    presenter.send(new JsonObject().put("type", "leave"));
    for (TestPeer v : viewers) {
      assertEquals("room-closed", v.expect("room-closed").getString("type"));
      assertEquals(1000, v.awaitClose());
    }
    assertFalse(Waits.until(3000, () -> watch.exists(room).await(), false));
  }
}
