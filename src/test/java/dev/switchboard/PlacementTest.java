package dev.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.testing.TestCluster;
import dev.switchboard.testing.TestPeer;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Least-loaded placement and the hard capacity, on three real nodes with skewed loads. */
class PlacementTest {

  TestCluster cluster;
  final List<TestPeer> sockets = new ArrayList<>();
  final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start() {
    cluster = TestCluster.start(3, Map.of("node-soft-capacity", "3", "node-hard-capacity", "5",
        "node-heartbeat", "200ms", "node-heartbeat-ttl", "600ms", "limits-join-timeout", "60s"));
  }

  @AfterEach
  void stop() {
    sockets.forEach(s -> {
      try {
        s.close();
      } catch (RuntimeException ignored) {
        // already closed by the test
      }
    });
    cluster.close();
  }

  /** Opens {@code n} idle sockets on node {@code i} (they count as connections). */
  private void load(int i, int n) {
    for (int k = 0; k < n; k++) {
      sockets.add(cluster.connect(i));
    }
  }

  private void awaitConnections(int i, int n) throws Exception {
    long deadline = System.currentTimeMillis() + 5000;
    while (System.currentTimeMillis() < deadline) {
      if (placementOf(null).getInteger("connections") >= 0 && cluster.node(i).record().connections() == n
          && redisConnections(i) == n) {
        return;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("node " + i + " never showed " + n + " connections in Redis");
  }

  private int redisConnections(int i) {
    var r = cluster.redis(io.vertx.redis.client.Command.HGET, "sb:node:" + cluster.node(i).nodeId(), "connections");
    return r == null ? -1 : r.toInteger();
  }

  private HttpResponse<String> get(int node, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + cluster.port(node) + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private JsonObject placementOf(String room) throws Exception {
    HttpResponse<String> r = get(0, "/v1/placement" + (room == null ? "" : "?room=" + room));
    assertEquals(200, r.statusCode(), r.body());
    return new JsonObject(r.body());
  }

  /** Reads headers and a Content-Length body. */
  private static String readResponse(java.io.InputStream in) throws java.io.IOException {
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int c = in.read();
      if (c < 0) {
        break;
      }
      head.append((char) c);
    }
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?i)content-length: (\\d+)").matcher(head);
    int len = m.find() ? Integer.parseInt(m.group(1)) : 0;
    return head + new String(in.readNBytes(len), java.nio.charset.StandardCharsets.UTF_8);
  }

  private String id(int i) {
    return cluster.node(i).nodeId();
  }

  @Test
  @DisplayName("with skewed loads the least-loaded node is chosen, with its url and connections")
  void leastLoaded() throws Exception {
    load(0, 2);
    load(1, 1);
    awaitConnections(0, 2);
    awaitConnections(1, 1);
    JsonObject p = placementOf(null);
    assertEquals(id(2), p.getString("node"));
    assertEquals("http://127.0.0.1:" + cluster.port(2), p.getString("url"));
    assertEquals(0, p.getInteger("connections"));
  }

  @Test
  @DisplayName("tied nodes share the placements; the busier node gets none")
  void ties() throws Exception {
    load(0, 2);
    awaitConnections(0, 2);
    Set<String> chosen = new HashSet<>();
    for (int k = 0; k < 40; k++) {
      chosen.add(placementOf(null).getString("node"));
    }
    assertEquals(Set.of(id(1), id(2)), chosen);
  }

  @Test
  @DisplayName("a node holding members of the room is chosen while under its soft capacity, then no longer")
  void roomAffinity() throws Exception {
    TestPeer member = cluster.join(0, "aff", "m1");
    sockets.add(member);
    load(1, 1);
    awaitConnections(0, 1);
    awaitConnections(1, 1);
    assertEquals(id(0), placementOf("aff").getString("node"), "affinity beats a less loaded node");
    assertEquals(id(2), placementOf("other").getString("node"), "another room goes to the least loaded");
    load(0, 2); // node 0 reaches its soft capacity (3)
    awaitConnections(0, 3);
    assertEquals(id(2), placementOf("aff").getString("node"));
  }

  @Test
  @DisplayName("a draining node and a node whose heartbeat lapsed are never chosen")
  void drainingAndDead() throws Exception {
    load(0, 2);
    load(1, 1);
    awaitConnections(0, 2);
    cluster.node(2).record().drain();
    Thread.sleep(300);
    for (int k = 0; k < 10; k++) {
      assertEquals(id(1), placementOf(null).getString("node"));
    }
    // Node 1 dies without a word: its Vert.x (and heartbeat) stops, its record expires.
    cluster.crash(1);
    Thread.sleep(1000);
    for (int k = 0; k < 10; k++) {
      assertEquals(id(0), placementOf(null).getString("node"));
    }
  }

  @Test
  @DisplayName("an invalid room id gets 400 with a JSON error")
  void invalidRoom() throws Exception {
    HttpResponse<String> r = get(1, "/v1/placement?room=bad%20room");
    assertEquals(400, r.statusCode());
    assertEquals("bad-request", new JsonObject(r.body()).getString("error"));
  }

  @Test
  @DisplayName("a node at its hard capacity refuses upgrades with 503, Retry-After and a better node")
  void hardCapacity() throws Exception {
    load(0, 5);
    load(1, 1);
    awaitConnections(0, 5);
    awaitConnections(1, 1);
    // A browser's upgrade request, by hand: java.net.http refuses to send Upgrade headers.
    String response;
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", cluster.port(0))) {
      s.setSoTimeout(5000);
      s.getOutputStream().write(("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
          + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
          + "Sec-WebSocket-Version: 13\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      response = readResponse(s.getInputStream());
    }
    assertTrue(response.startsWith("HTTP/1.1 503"), response);
    assertTrue(response.contains("\r\nRetry-After: 5\r\n") || response.contains("\r\nretry-after: 5\r\n"), response);
    JsonObject body = new JsonObject(response.substring(response.indexOf("\r\n\r\n") + 4));
    assertEquals("full", body.getString("error"));
    assertEquals(id(2), body.getString("node"));
    assertEquals("http://127.0.0.1:" + cluster.port(2), body.getString("url"));
    assertNotEquals(id(0), body.getString("node"));
    assertTrue(cluster.node(0).record().connections() == 5);
  }
}
