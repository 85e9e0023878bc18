package dev.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.switchboard.testing.JanusProcess;
import dev.switchboard.testing.TestCluster;
import dev.switchboard.testing.TestPeer;
import io.vertx.redis.client.Command;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * A node with a media server (a real Janus): readiness says whether it can use it, a Janus that
 * refuses the secret or goes away makes the node unready (not dead), and the node takes the link
 * back once Janus is there again.
 */
class MediaServerTest {

  static final String SECRET = "janus-api-secret-for-tests";
  static final String ADMIN_KEY = "videoroom-admin-key-for-tests";

  JanusProcess janus;
  TestCluster cluster;
  final HttpClient http = HttpClient.newHttpClient();

  @AfterEach
  void stop() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
    if (janus != null) {
      janus.close();
    }
  }

  private TestCluster node(String secret) {
    return TestCluster.start(1, Map.of("media-janus-url", janus.url(), "media-janus-api-secret", secret,
        "media-janus-admin-key", ADMIN_KEY, "media-keepalive", "1s", "media-request-timeout", "1s",
        "admin-key", ADMIN_KEY));
  }

  /** {@code /ready}'s status and its {@code media} field. */
  private List<Object> ready() throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + cluster.port(0) + "/ready")).build(), HttpResponse.BodyHandlers.ofString());
    return List.of(r.statusCode(), new JsonObject(r.body()).getString("media"));
  }

  private List<Object> readyWithin(long ms, List<Object> expected) throws Exception {
    long deadline = System.currentTimeMillis() + ms;
    List<Object> now = ready();
    while (!now.equals(expected) && System.currentTimeMillis() < deadline) {
      Thread.sleep(100);
      now = ready();
    }
    return now;
  }

  @Test
  @DisplayName("ready with its Janus up; unready (503, media down) while Janus is gone; ready again once it is back")
  void readinessFollowsTheMediaServer() throws Exception {
    janus = JanusProcess.start(SECRET, ADMIN_KEY, 30);
    cluster = node(SECRET);
    assertEquals(List.of(200, "up"), readyWithin(5000, List.of(200, "up")));
    janus.kill();
    assertEquals(List.of(503, "down"), readyWithin(5000, List.of(503, "down")));
    janus = janus.restart();
    assertEquals(List.of(200, "up"), readyWithin(10_000, List.of(200, "up")), "the node opens the link again");
  }

  @Test
  @DisplayName("a join to an sfu room while Janus is gone is refused unavailable (4503), and nothing of it stays in the room")
  void sfuJoinWithoutJanus() throws Exception {
    janus = JanusProcess.start(SECRET, ADMIN_KEY, 30);
    cluster = node(SECRET);
    HttpResponse<String> created = http.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + cluster.port(0) + "/v1/rooms")).header("Authorization", "Bearer " + ADMIN_KEY)
        .POST(HttpRequest.BodyPublishers.ofString("{\"room\":\"meet\",\"media\":\"sfu\"}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(201, created.statusCode(), created.body());
    janus.kill();
    assertEquals(List.of(503, "down"), readyWithin(5000, List.of(503, "down")));
    TestPeer refused = cluster.connect(0);
    refused.send(new JsonObject().put("type", "join").put("room", "meet").put("peer", "a"));
    assertEquals("unavailable", refused.expect("error").getString("code"));
    assertEquals(4503, refused.awaitClose());
    long deadline = System.currentTimeMillis() + 3000;
    while (cluster.redis(Command.HLEN, "sb:{meet}:peers").toInteger() != 0 && System.currentTimeMillis() < deadline) {
      Thread.sleep(50);
    }
    assertEquals(0, cluster.redis(Command.HLEN, "sb:{meet}:peers").toInteger(), "the store's join was undone");
  }

  @Test
  @DisplayName("a wrong Janus API secret does not stop the node: it runs, unready, and says media down")
  void wrongSecret() throws Exception {
    janus = JanusProcess.start(SECRET, ADMIN_KEY, 30);
    cluster = node("not-the-secret");
    assertEquals(List.of(503, "down"), readyWithin(3000, List.of(503, "down")));
    Thread.sleep(1500);
    assertEquals(List.of(503, "down"), ready(), "still refused after the retries");
  }

  @Test
  @DisplayName("without a media server the node is ready as before and says media off")
  void noMediaServer() throws Exception {
    cluster = TestCluster.start(1, Map.of());
    assertEquals(List.of(200, "off"), readyWithin(3000, List.of(200, "off")));
  }
}
