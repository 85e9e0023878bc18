package dev.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.switchboard.testing.JanusProcess;
import dev.switchboard.testing.TestCluster;
import dev.switchboard.testing.TestPeer;
import dev.switchboard.testing.Waits;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The media events of webhooks, with a real Janus: {@code publish_started} when the media server
 * answers a member's first publish (not a renegotiation), {@code publish_stopped} when it leaves
 * while publishing, before its {@code peer_left}. (An unpublish ends it too; Janus takes one only
 * from a publisher whose media flowed, which a recorded offer never does: the e2e pages do.)
 */
class MediaWebhooksTest {

  static final String SECRET = "janus-api-secret-for-tests";
  static final String ADMIN_KEY = "videoroom-admin-key-for-tests";
  static final String KEY = "media-webhooks-admin-key";

  @Test
  @DisplayName("publish_started once per publishing (a renegotiation is none), publish_stopped when a publishing member leaves, before its peer_left")
  void publishEvents() throws Exception {
    String offer = new String(MediaWebhooksTest.class.getResourceAsStream("/sdp/publisher-offer.sdp").readAllBytes(),
        StandardCharsets.UTF_8);
    Vertx vertx = Vertx.vertx();
    List<String> got = new CopyOnWriteArrayList<>();
    int port = TestCluster.freePort();
    vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(b -> {
      JsonObject e = new JsonObject(b.toString());
      got.add(e.getString("event") + ":" + e.getString("peer"));
      req.response().setStatusCode(204).end();
    })).listen(port, "127.0.0.1").await();
    JanusProcess janus = JanusProcess.start(SECRET, ADMIN_KEY, 30);
    try (TestCluster cluster = TestCluster.start(1, janus.nodeSettings(Map.of("admin-key", KEY,
        "webhooks-urls", "http://127.0.0.1:" + port + "/", "webhooks-secret", "media-webhooks-secret-0123",
        "webhooks-events", "publish_started,publish_stopped,peer_left")))) {
      assertEquals(201, cluster.http(0, "POST", "/v1/rooms", KEY,
          "{\"room\":\"mw\",\"mode\":\"mesh\",\"media\":\"sfu\"}").statusCode());
      TestPeer ann = cluster.join(0, "mw", "ann", null);
      TestPeer bo = cluster.join(0, "mw", "bo", null);
      for (String id : List.of("p1", "p2")) { // the second renegotiates: no second start
        ann.send(new JsonObject().put("type", "publish").put("sdp", offer).put("id", id));
        assertEquals(id, ann.expectPast("publish-answer").getString("id"));
      }
      bo.send(new JsonObject().put("type", "publish").put("sdp", offer).put("id", "b1"));
      assertEquals("b1", bo.expectPast("publish-answer").getString("id"));
      bo.send(new JsonObject().put("type", "leave"));
      bo.awaitClose();
      ann.send(new JsonObject().put("type", "leave"));
      ann.awaitClose();
      List<String> expected = List.of("publish_started:ann", "publish_started:bo", "publish_stopped:bo",
          "peer_left:bo", "publish_stopped:ann", "peer_left:ann");
      assertEquals(expected.size(), Waits.until(10_000, () -> got.size(), expected.size()));
      assertEquals(expected, new ArrayList<>(got));
    } finally {
      janus.close();
      vertx.close().await();
    }
  }
}
