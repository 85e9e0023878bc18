package dev.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.testing.TestCluster;
import dev.switchboard.testing.TestPeer;
import io.vertx.core.Future;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The admin HTTP API on a real two-node cluster. */
class AdminApiTest {

  static final String KEY = "s3cret-admin-key";
  static TestCluster cluster;
  static final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start() {
    cluster = TestCluster.start(2, Map.of("admin-key", KEY, "node-heartbeat", "300ms", "node-heartbeat-ttl", "1s"));
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  static HttpResponse<String> call(int node, String method, String path, String key, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + cluster.port(node) + path))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (key != null) {
      b.header("Authorization", "Bearer " + key);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static JsonObject ok(HttpResponse<String> r, int status) {
    assertEquals(status, r.statusCode(), r.body());
    assertEquals("application/json", r.headers().firstValue("content-type").orElse(""));
    return new JsonObject(r.body());
  }

  @Test
  @DisplayName("without the right bearer key every admin route answers 401 with a JSON error")
  void needsKey() throws Exception {
    for (String path : new String[] {"/v1/nodes", "/v1/rooms", "/v1/rooms/x"}) {
      assertEquals("unauthorized", ok(call(0, "GET", path, null, null), 401).getString("error"));
      assertEquals("unauthorized", ok(call(0, "GET", path, "wrong", null), 401).getString("error"));
    }
    assertEquals("unauthorized", ok(call(1, "DELETE", "/v1/rooms/x", "s3cret", null), 401).getString("error"));
  }

  @Test
  @DisplayName("a node without an admin key says the admin API is off")
  void offWithoutKey() throws Exception {
    Node open = cluster.addNode(Map.of());
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + open.port() + "/v1/nodes")).header("Authorization", "Bearer " + KEY).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(403, r.statusCode());
    assertEquals("admin-off", new JsonObject(r.body()).getString("error"));
    open.stop().await();
  }

  @Test
  @DisplayName("GET /v1/nodes lists the live nodes with their url, load and state")
  void nodes() throws Exception {
    JsonArray nodes = ok(call(0, "GET", "/v1/nodes", KEY, null), 200).getJsonArray("nodes");
    Set<String> ids = new HashSet<>();
    for (Object o : nodes) {
      JsonObject n = (JsonObject) o;
      ids.add(n.getString("node"));
      assertTrue(n.getString("url").startsWith("http://127.0.0.1:"), n.encode());
      assertTrue(n.containsKey("connections") && n.containsKey("heartbeatAt"), n.encode());
    }
    assertTrue(ids.containsAll(Set.of(cluster.node(0).nodeId(), cluster.node(1).nodeId())), ids.toString());
  }

  @Test
  @DisplayName("a room created ahead keeps its maxPeers; it is listed, shown, and closed for everyone by DELETE")
  void roomLifecycle() throws Exception {
    JsonObject created = ok(call(0, "POST", "/v1/rooms", KEY, "{\"room\":\"planned\",\"maxPeers\":2}"), 201);
    assertEquals(2, created.getJsonObject("config").getInteger("maxPeers"));
    assertEquals("exists", ok(call(1, "POST", "/v1/rooms", KEY, "{\"room\":\"planned\"}"), 409).getString("error"));

    TestPeer a = cluster.join(0, "planned", "a");
    TestPeer b = cluster.join(1, "planned", "b");
    TestPeer c = cluster.connect(1);
    c.send(new JsonObject().put("type", "join").put("room", "planned").put("peer", "c"));
    assertEquals("room-full", c.expect("error").getString("code"), "the room's own maxPeers (2) applies");
    a.expect("peer-joined");

    JsonArray rooms = ok(call(1, "GET", "/v1/rooms", KEY, null), 200).getJsonArray("rooms");
    assertTrue(rooms.stream().anyMatch(r -> ((JsonObject) r).getString("room").equals("planned")
        && ((JsonObject) r).getInteger("peers") == 2), rooms.encode());

    JsonObject room = ok(call(1, "GET", "/v1/rooms/planned", KEY, null), 200);
    assertEquals(2, room.getJsonObject("config").getInteger("maxPeers"));
    Map<String, String> nodeOf = new java.util.HashMap<>();
    room.getJsonArray("peers").forEach(p -> nodeOf.put(((JsonObject) p).getString("peer"),
        ((JsonObject) p).getString("node")));
    assertEquals(Map.of("a", cluster.node(0).nodeId(), "b", cluster.node(1).nodeId()), nodeOf);
    assertTrue(room.getJsonArray("peers").getJsonObject(0).getLong("joinedAt") > 0);

    JsonObject deleted = ok(call(0, "DELETE", "/v1/rooms/planned", KEY, null), 200);
    assertEquals(2, deleted.getInteger("closed"));
    for (TestPeer p : new TestPeer[] {a, b}) {
      JsonObject closed = p.next();
      if (closed.getString("type").equals("peer-left")) {
        closed = p.next();
      }
      assertEquals("room-closed", closed.getString("type"), closed.encode());
      assertEquals(1000, p.awaitClose());
    }
    long deadline = System.currentTimeMillis() + 3000;
    while (System.currentTimeMillis() < deadline
        && cluster.redis(Command.EXISTS, "sb:{planned}:peers").toInteger() != 0) {
      Thread.sleep(50);
    }
    assertEquals(0, cluster.redis(Command.EXISTS, "sb:{planned}:peers", "sb:{planned}:config").toInteger());
    assertEquals("not-found", ok(call(0, "GET", "/v1/rooms/planned", KEY, null), 404).getString("error"));
    assertEquals("not-found", ok(call(0, "DELETE", "/v1/rooms/planned", KEY, null), 404).getString("error"));
  }

  @Test
  @DisplayName("bad admin requests get 400 with a JSON error")
  void badRequests() throws Exception {
    assertEquals("bad-request", ok(call(0, "POST", "/v1/rooms", KEY, "not json"), 400).getString("error"));
    assertEquals("bad-request", ok(call(0, "POST", "/v1/rooms", KEY, "{\"room\":\"bad room\"}"), 400).getString("error"));
    assertEquals("bad-request", ok(call(0, "POST", "/v1/rooms", KEY, "{\"room\":\"r\",\"mode\":\"webinar\"}"), 400)
        .getString("error"));
    assertEquals("bad-request", ok(call(0, "POST", "/v1/rooms", KEY, "{\"room\":\"r\",\"media\":\"mcu\"}"), 400)
        .getString("error"));
    assertEquals("bad-request", ok(call(0, "POST", "/v1/rooms", KEY, "{\"room\":\"r\",\"maxPeers\":0}"), 400)
        .getString("error"));
    assertEquals("bad-request", ok(call(0, "GET", "/v1/rooms?limit=0", KEY, null), 400).getString("error"));
    assertEquals("bad-request", ok(call(0, "GET", "/v1/rooms/bad%20room", KEY, null), 400).getString("error"));
  }

  @Test
  @DisplayName("drain marks the node draining in Redis: placement skips it, /ready and upgrades answer 503; undrain takes it back")
  void drain() throws Exception {
    String target = cluster.node(1).nodeId();
    assertEquals("not-found", ok(call(0, "POST", "/v1/nodes/nope/drain", KEY, null), 404).getString("error"));
    assertEquals("draining", ok(call(0, "POST", "/v1/nodes/" + target + "/drain", KEY, null), 200).getString("state"));
    long deadline = System.currentTimeMillis() + 3000;
    while (System.currentTimeMillis() < deadline
        && !"draining".equals(String.valueOf(cluster.redis(Command.HGET, "sb:node:" + target, "state")))) {
      Thread.sleep(50);
    }
    assertEquals("draining", cluster.redis(Command.HGET, "sb:node:" + target, "state").toString());
    for (int i = 0; i < 10; i++) {
      JsonObject p = ok(call(1, "GET", "/v1/placement", null, null), 200);
      assertEquals(cluster.node(0).nodeId(), p.getString("node"));
    }
    // A draining node takes no new socket: 503, naming a node that does.
    Throwable failed = cluster.client().connect(cluster.port(1), "127.0.0.1", "/ws")
        .transform(ar -> Future.succeededFuture(ar.cause())).await();
    UpgradeRejectedException upgrade = assertInstanceOf(UpgradeRejectedException.class, failed);
    assertEquals(503, upgrade.getStatus());
    JsonObject refused = new JsonObject(upgrade.getBody());
    assertEquals("draining", refused.getString("error"));
    assertEquals(cluster.node(0).nodeId(), refused.getString("node"));
    assertEquals(503, call(1, "GET", "/ready", null, null).statusCode());
    // Undrain: active again, in Redis and for sockets.
    assertEquals("not-found", ok(call(0, "POST", "/v1/nodes/nope/undrain", KEY, null), 404).getString("error"));
    assertEquals("active", ok(call(0, "POST", "/v1/nodes/" + target + "/undrain", KEY, null), 200).getString("state"));
    deadline = System.currentTimeMillis() + 3000;
    while (System.currentTimeMillis() < deadline
        && !"active".equals(String.valueOf(cluster.redis(Command.HGET, "sb:node:" + target, "state")))) {
      Thread.sleep(50);
    }
    assertEquals("active", cluster.redis(Command.HGET, "sb:node:" + target, "state").toString());
    assertEquals(200, call(1, "GET", "/ready", null, null).statusCode());
    cluster.join(1, "after-undrain", "p").close();
  }
}
