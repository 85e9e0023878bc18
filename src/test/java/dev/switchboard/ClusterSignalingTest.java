package dev.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.testing.TestCluster;
import dev.switchboard.testing.TestPeer;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Protocol v1 across a real three-node cluster with a real Redis. */
class ClusterSignalingTest {

  static TestCluster cluster;

  @BeforeAll
  static void start() {
    cluster = TestCluster.start(3, Map.of(
        "limits-rate", "100000", "limits-rate-burst", "100000",
        "limits-max-peers", "4",
        "limits-join-timeout", "1s",
        "ice-servers", "[{\"urls\":\"stun:stun.example.org:3478\"}]"));
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  private static String room() {
    return "room-" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static JsonObject offer(String to, String sdp) {
    return new JsonObject().put("type", "offer").put("to", to).put("sdp", sdp);
  }

  @Test
  @DisplayName("a newcomer on another node gets the peer list, and the member gets peer-joined")
  void peerListAndPeerJoined() {
    String room = room();
    try (TestPeer a = cluster.join(0, room, "alice"); TestPeer b = cluster.join(1, room, "bob")) {
      assertEquals(0, a.welcome.getJsonArray("peers").size());
      assertEquals(cluster.node(0).nodeId(), a.welcome.getString("node"));
      assertEquals("stun:stun.example.org:3478",
          a.welcome.getJsonArray("iceServers").getJsonObject(0).getString("urls"));
      assertEquals(4, a.welcome.getJsonObject("limits").getInteger("maxPeers"));
      JsonArray peers = b.welcome.getJsonArray("peers");
      assertEquals(1, peers.size());
      assertEquals("alice", peers.getJsonObject(0).getString("peer"));
      assertEquals("alice", peers.getJsonObject(0).getJsonObject("meta").getString("name"));
      JsonObject joined = a.expect("peer-joined");
      assertEquals("bob", joined.getString("peer"));
      assertEquals("bob", joined.getJsonObject("meta").getString("name"));
      assertEquals("peer", joined.getString("role"));
    }
  }

  @Test
  @DisplayName("a relay across nodes is stamped with the sender's id, whatever from the client sent, and acked")
  void relayStampsFrom() {
    String room = room();
    try (TestPeer a = cluster.join(0, room, "alice"); TestPeer b = cluster.join(1, room, "bob")) {
      a.expect("peer-joined");
      b.send(offer("alice", "v=0 offer").put("from", "mallory").put("id", "o1").put("extra", "dropped"));
      JsonObject got = a.expect("offer");
      assertEquals("bob", got.getString("from"));
      assertEquals("v=0 offer", got.getString("sdp"));
      assertFalse(got.containsKey("extra"));
      JsonObject ack = b.expect("ack");
      assertEquals("o1", ack.getString("id"));
      a.send(new JsonObject().put("type", "answer").put("to", "bob").put("sdp", "v=0 answer").put("id", 7));
      assertEquals("v=0 answer", b.expect("answer").getString("sdp"));
      assertEquals(7L, a.expect("ack").getLong("id"));
      a.send(new JsonObject().put("type", "candidate").put("to", "bob").putNull("candidate"));
      JsonObject end = b.expect("candidate");
      assertTrue(end.containsKey("candidate"));
      assertEquals("alice", end.getString("from"));
    }
  }

  @Test
  @DisplayName("1,000 numbered messages from one peer to another across nodes arrive complete and in order")
  void thousandInOrder() {
    String room = room();
    try (TestPeer a = cluster.join(0, room, "alice"); TestPeer b = cluster.join(2, room, "bob")) {
      a.expect("peer-joined");
      for (int i = 0; i < 1000; i++) {
        JsonObject m = i % 3 == 0
            ? new JsonObject().put("type", "candidate").put("to", "alice").put("candidate", new JsonObject().put("n", i))
            : new JsonObject().put("type", "message").put("to", "alice").put("data", new JsonObject().put("n", i));
        b.send(m);
      }
      for (int i = 0; i < 1000; i++) {
        JsonObject m = a.next();
        JsonObject body = m.getString("type").equals("candidate") ? m.getJsonObject("candidate") : m.getJsonObject("data");
        assertEquals(i, body.getInteger("n"), "message " + i + " out of order: " + m.encode());
        assertEquals("bob", m.getString("from"));
      }
      a.expectNothing(200);
    }
  }

  @Test
  @DisplayName("a room-wide message reaches every other member once, on every node, and not the sender")
  void roomWideMessage() {
    String room = room();
    try (TestPeer a = cluster.join(0, room, "a"); TestPeer b = cluster.join(1, room, "b");
         TestPeer c = cluster.join(2, room, "c"); TestPeer d = cluster.join(1, room, "d")) {
      a.expect("peer-joined");
      a.expect("peer-joined");
      a.expect("peer-joined");
      b.expect("peer-joined");
      b.expect("peer-joined");
      c.expect("peer-joined");
      a.send(new JsonObject().put("type", "message").put("data", "hello all").put("id", "m1"));
      assertEquals("m1", a.expect("ack").getString("id"));
      for (TestPeer p : List.of(b, c, d)) {
        JsonObject m = p.expect("message");
        assertEquals("hello all", m.getString("data"));
        assertEquals("a", m.getString("from"));
        assertFalse(m.containsKey("to"));
      }
      for (TestPeer p : List.of(a, b, c, d)) {
        p.expectNothing(300);
      }
    }
  }

  @Test
  @DisplayName("peers of other rooms are unreachable: peer-not-found, and nothing leaks")
  void roomIsolation() {
    String room = room();
    String other = room();
    try (TestPeer a = cluster.join(0, room, "alice"); TestPeer x = cluster.join(1, other, "xavier");
         TestPeer y = cluster.join(0, other, "yves")) {
      x.expect("peer-joined");
      a.send(offer("xavier", "sneaky").put("id", "s1"));
      JsonObject err = a.expect("error");
      assertEquals("peer-not-found", err.getString("code"));
      assertEquals("s1", err.getString("id"));
      a.send(offer("yves", "sneaky"));
      assertEquals("peer-not-found", a.expect("error").getString("code"));
      a.send(new JsonObject().put("type", "message").put("data", "to my room only"));
      x.expectNothing(300);
      y.expectNothing(100);
    }
  }

  @Test
  @DisplayName("state reaches the others as peer-state and shows in a later welcome")
  void statePropagation() {
    String room = room();
    try (TestPeer a = cluster.join(0, room, "alice"); TestPeer b = cluster.join(1, room, "bob")) {
      a.expect("peer-joined");
      a.send(new JsonObject().put("type", "state").put("audio", false).put("video", true).put("id", "s"));
      assertEquals("s", a.expect("ack").getString("id"));
      JsonObject ps = b.expect("peer-state");
      assertEquals("alice", ps.getString("peer"));
      assertEquals(false, ps.getJsonObject("state").getBoolean("audio"));
      a.send(new JsonObject().put("type", "state").put("data", new JsonObject().put("hand", true)));
      JsonObject ps2 = b.expect("peer-state");
      assertEquals(false, ps2.getJsonObject("state").getBoolean("audio"), "fields merge");
      assertTrue(ps2.getJsonObject("state").getJsonObject("data").getBoolean("hand"));
      try (TestPeer c = cluster.join(2, room, "carol")) {
        JsonObject alice = c.welcome.getJsonArray("peers").stream().map(JsonObject.class::cast)
            .filter(p -> p.getString("peer").equals("alice")).findFirst().orElseThrow();
        assertEquals(false, alice.getJsonObject("state").getBoolean("audio"));
        assertEquals(true, alice.getJsonObject("state").getBoolean("video"));
      }
    }
  }

  @Test
  @DisplayName("a socket that closes without leave makes the others see peer-left disconnected")
  void peerLeftOnDisconnect() {
    String room = room();
    try (TestPeer a = cluster.join(0, room, "alice")) {
      TestPeer b = cluster.join(1, room, "bob");
      a.expect("peer-joined");
      b.disconnect();
      JsonObject left = a.expect("peer-left");
      assertEquals("bob", left.getString("peer"));
      assertEquals("disconnected", left.getString("reason"));
    }
  }

  @Test
  @DisplayName("leave is acked, closes with 1000, and the others see peer-left left")
  void leaveClosesNormally() {
    String room = room();
    try (TestPeer a = cluster.join(0, room, "alice")) {
      TestPeer b = cluster.join(2, room, "bob");
      a.expect("peer-joined");
      b.send(new JsonObject().put("type", "leave").put("id", "bye"));
      assertEquals("bye", b.expect("ack").getString("id"));
      assertEquals(1000, b.awaitClose());
      JsonObject left = a.expect("peer-left");
      assertEquals("left", left.getString("reason"));
    }
  }

  @Test
  @DisplayName("a full room refuses the next peer with room-full and 4503")
  void roomFull() {
    String room = room();
    try (TestPeer a = cluster.join(0, room, "p1"); TestPeer b = cluster.join(1, room, "p2");
         TestPeer c = cluster.join(2, room, "p3"); TestPeer d = cluster.join(0, room, "p4")) {
      TestPeer e = cluster.connect(1);
      e.send(new JsonObject().put("type", "join").put("room", room).put("peer", "p5").put("id", 1));
      JsonObject err = e.expect("error");
      assertEquals("room-full", err.getString("code"));
      assertEquals(1L, err.getLong("id"));
      assertEquals(4503, e.awaitClose());
    }
  }

  @Test
  @DisplayName("a peer id already in the room, from another node, is refused with 4409")
  void duplicatePeerId() {
    String room = room();
    try (TestPeer a = cluster.join(0, room, "alice")) {
      TestPeer dup = cluster.connect(1);
      dup.send(new JsonObject().put("type", "join").put("room", room).put("peer", "alice"));
      assertEquals("peer-id-taken", dup.expect("error").getString("code"));
      assertEquals(4409, dup.awaitClose());
      TestPeer local = cluster.connect(0);
      local.send(new JsonObject().put("type", "join").put("room", room).put("peer", "alice"));
      assertEquals("peer-id-taken", local.expect("error").getString("code"));
      assertEquals(4409, local.awaitClose());
      a.expectNothing(200);
    }
  }

  @Test
  @DisplayName("a socket that never joins is closed with 4408 after the join timeout")
  void joinTimeout() {
    TestPeer p = cluster.connect(2);
    long start = System.nanoTime();
    assertEquals(4408, p.awaitClose());
    long ms = (System.nanoTime() - start) / 1_000_000;
    assertTrue(ms >= 800 && ms < 5000, "closed after " + ms + "ms with a 1s timeout");
  }

  @Test
  @DisplayName("a first message that is not a join closes with 4400 after an error")
  void firstMessageNotJoin() {
    TestPeer p = cluster.connect(0);
    p.send(offer("x", "y"));
    assertEquals("not-joined", p.expect("error").getString("code"));
    assertEquals(4400, p.awaitClose());
    TestPeer q = cluster.connect(0);
    q.sendRaw("{not json");
    assertEquals("bad-request", q.expect("error").getString("code"));
    assertEquals(4400, q.awaitClose());
  }

  @Test
  @DisplayName("a frame over the limit closes the socket with 1009")
  void frameTooLarge() {
    try (TestPeer a = cluster.join(0, room(), "alice")) {
      a.sendRaw("{\"type\":\"message\",\"data\":\"" + "x".repeat(70_000) + "\"}");
      assertEquals(1009, a.awaitClose());
    }
  }

  @Test
  @DisplayName("a binary frame is refused with bad-request and the socket stays open")
  void binaryRefused() {
    try (TestPeer a = cluster.join(1, room(), "alice")) {
      a.sendBinary(Buffer.buffer(new byte[] {1, 2, 3}));
      assertEquals("bad-request", a.expect("error").getString("code"));
      a.send(new JsonObject().put("type", "ping").put("id", "p"));
      JsonObject pong = a.expect("pong");
      assertEquals("p", pong.getString("id"));
      assertFalse(a.isClosed());
    }
  }

  @Test
  @DisplayName("bad messages after join get errors with the client's id and the socket stays open")
  void errorsAfterJoin() {
    try (TestPeer a = cluster.join(1, room(), "alice")) {
      a.send(new JsonObject().put("type", "nope").put("id", "n"));
      JsonObject e1 = a.expect("error");
      assertEquals("unknown-type", e1.getString("code"));
      assertEquals("n", e1.getString("id"));
      a.send(new JsonObject().put("type", "offer").put("to", "bob").put("sdp", 5).put("id", 2));
      assertEquals("bad-request", a.expect("error").getString("code"));
      a.send(new JsonObject().put("type", "join").put("room", "again"));
      assertEquals("already-joined", a.expect("error").getString("code"));
      a.send(new JsonObject().put("type", "ping"));
      a.expect("pong");
    }
  }

  @Test
  @DisplayName("a relay to a peer that just left, from another node, ends in peer-not-found within a second")
  void relayToJustLeft() {
    for (int round = 0; round < 10; round++) {
      String room = room();
      try (TestPeer b = cluster.join(1, room, "bob")) {
        TestPeer a = cluster.join(0, room, "alice");
        b.expect("peer-joined");
        a.disconnect();
        long start = System.nanoTime();
        // Sent before bob learns alice left: the answer must still come, and fast.
        b.send(offer("alice", "late").put("id", "late"));
        boolean leftSeen = false;
        JsonObject answer = b.next(Duration.ofSeconds(2));
        if (answer.getString("type").equals("peer-left")) {
          leftSeen = true;
          answer = b.next(Duration.ofSeconds(2));
        }
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertTrue(ms < 1000, "answered after " + ms + "ms");
        if (answer.getString("type").equals("error")) {
          assertEquals("peer-not-found", answer.getString("code"));
          assertEquals("late", answer.getString("id"));
        } else {
          assertEquals("ack", answer.getString("type"), answer.encode());
        }
        // Once alice is known gone, every relay to her fails at once.
        if (!leftSeen) {
          assertEquals("alice", b.expect("peer-left").getString("peer"));
        }
        b.send(offer("alice", "later").put("id", "later"));
        JsonObject after = b.next(Duration.ofSeconds(2));
        assertEquals("error", after.getString("type"), after.encode());
        assertEquals("peer-not-found", after.getString("code"));
      }
    }
  }

  @Test
  @DisplayName("HTTP: /health answers JSON with the node's counts; unknown paths get a JSON 404")
  void httpRoutes() throws Exception {
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    var health = http.send(java.net.http.HttpRequest.newBuilder(
            java.net.URI.create("http://127.0.0.1:" + cluster.port(0) + "/health")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    assertEquals(200, health.statusCode());
    JsonObject h = new JsonObject(health.body());
    assertEquals("up", h.getString("status"));
    assertEquals(cluster.node(0).nodeId(), h.getString("node"));
    assertTrue(h.containsKey("connections"));
    var missing = http.send(java.net.http.HttpRequest.newBuilder(
            java.net.URI.create("http://127.0.0.1:" + cluster.port(0) + "/nope")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    assertEquals(404, missing.statusCode());
    assertEquals("not-found", new JsonObject(missing.body()).getString("error"));
  }

  @Test
  @DisplayName("HTTP: the demo page at /, the demo and client module from the jar's copy, and nothing else of client/")
  void clientFiles() throws Exception {
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    java.util.function.Function<String, java.net.http.HttpResponse<String>> get = path -> {
      try {
        return http.send(java.net.http.HttpRequest.newBuilder(
            java.net.URI.create("http://127.0.0.1:" + cluster.port(1) + path)).build(),
            java.net.http.HttpResponse.BodyHandlers.ofString());
      } catch (Exception e) {
        throw new AssertionError(path, e);
      }
    };
    var page = get.apply("/?room=demo");
    assertEquals(200, page.statusCode());
    assertTrue(page.headers().firstValue("content-type").orElse("").startsWith("text/html"));
    assertTrue(page.body().contains("src=\"/demo/demo.js\""), page.body());
    for (String file : List.of("src/switchboard.js", "src/signaling.js", "src/peer-link.js", "demo/demo.js")) {
      var js = get.apply("/" + file);
      assertEquals(200, js.statusCode(), file);
      assertTrue(js.headers().firstValue("content-type").orElse("").startsWith("text/javascript"), file);
      assertEquals(java.nio.file.Files.readString(java.nio.file.Path.of("client", file)), js.body(), file);
    }
    for (String hidden : List.of("/package.json", "/e2e/harness.js", "/test/fakes.js", "/node_modules/",
        "/src/", "/demo/../../pom.xml", "/demo/nope.js")) {
      var refused = get.apply(hidden);
      assertEquals(404, refused.statusCode(), hidden);
      assertEquals("not-found", new JsonObject(refused.body()).getString("error"), hidden);
    }
  }

  @Test
  @DisplayName("after every peer leaves, Redis holds no members and every node's connection count is zero")
  void redisCleanAfterAllLeave() throws Exception {
    String room = room();
    TestPeer a = cluster.join(0, room, "a");
    TestPeer b = cluster.join(1, room, "b");
    TestPeer c = cluster.join(2, room, "c");
    assertEquals(3, cluster.redis(Command.HLEN, "sb:{" + room + "}:peers").toInteger());
    a.send(new JsonObject().put("type", "leave"));
    a.awaitClose();
    b.disconnect();
    c.disconnect();
    long deadline = System.currentTimeMillis() + 5000;
    while (System.currentTimeMillis() < deadline && !redisClean(room)) {
      Thread.sleep(50);
    }
    assertEquals(0, cluster.redis(Command.EXISTS, "sb:{" + room + "}:peers").toInteger());
    assertEquals(0, cluster.redis(Command.EXISTS, "sb:{" + room + "}:nodes").toInteger());
    assertEquals(null, cluster.redis(Command.ZSCORE, "sb:rooms", room));
    for (var node : cluster.nodes()) {
      assertEquals(0, cluster.redis(Command.ZSCORE, "sb:nodes", node.nodeId()).toInteger(), node.nodeId());
      for (Object member : cluster.redis(Command.SMEMBERS, "sb:node:" + node.nodeId() + ":peers")) {
        assertFalse(member.toString().startsWith(room + "/"), member.toString());
      }
    }
  }

  private static boolean redisClean(String room) {
    if (cluster.redis(Command.EXISTS, "sb:{" + room + "}:peers").toInteger() != 0) {
      return false;
    }
    for (var node : cluster.nodes()) {
      if (node.record().connections() != 0
          || cluster.redis(Command.ZSCORE, "sb:nodes", node.nodeId()).toInteger() != 0) {
        return false;
      }
    }
    return true;
  }
}
