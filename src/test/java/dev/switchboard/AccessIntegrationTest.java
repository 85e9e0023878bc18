package dev.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.auth.RoomTokens;
import dev.switchboard.transport.Refusal;
import dev.switchboard.protocol.CloseCode;
import dev.switchboard.testing.TestCluster;
import dev.switchboard.testing.TestPeer;
import dev.switchboard.testing.Waits;
import io.vertx.core.Future;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Who may open a socket and join a room, over real sockets to a real node: room tokens,
 * the Origin allow-list, per-address limits behind a trusted proxy, and the counters of each
 * refusal at {@code /metrics}. The node trusts 127.0.0.1 as its load balancer, so each test
 * plays clients of its own addresses through {@code X-Forwarded-For}.
 */
class AccessIntegrationTest {

  private static final String SECRET = "access-test-secret-at-least-32-bytes";
  private static TestCluster cluster;
  private static WebSocketClient client;
  private static HttpClient http;

  @BeforeAll
  static void start() {
    cluster = TestCluster.start(1, Map.of(
        "auth-secret", SECRET,
        "http-allowed-origins", "https://app.example.com,https://*.example.org",
        "http-trusted-proxies", "127.0.0.1",
        "limits-ip-connections", "3",
        "limits-ip-connect-rate", "1",
        "limits-ip-connect-burst", "6",
        "ice-servers", "[{\"urls\":\"stun:stun.example.org:3478\"}]",
        "ice-turn-urls", "turn:turn.example.org:3478?transport=udp",
        "ice-turn-secret", "turn-shared-secret"));
    client = TestPeer.client(cluster.clientVertx());
    http = cluster.clientVertx().createHttpClient();
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  private static String room() {
    return "r" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static String token(String room, String peer) {
    return RoomTokens.mint(cluster.clientVertx(), SECRET, room, peer, null, Duration.ofMinutes(5), null, null);
  }

  /** The token with its payload replaced, keeping the original signature: what a forger can do. */
  private static String withPayload(String token, JsonObject claims) {
    String[] parts = token.split("\\.");
    parts[1] = java.util.Base64.getUrlEncoder().withoutPadding()
        .encodeToString(claims.encode().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    return String.join(".", parts);
  }

  private static WebSocketConnectOptions ws(String clientIp, String origin) {
    WebSocketConnectOptions o = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(cluster.port(0))
        .setURI("/ws").addHeader("X-Forwarded-For", clientIp);
    if (origin != null) {
      o.addHeader("Origin", origin);
    }
    return o;
  }

  private static Future<WebSocket> open(String clientIp, String origin) {
    return client.connect(ws(clientIp, origin));
  }

  private static UpgradeRejectedException rejected(Future<WebSocket> f) {
    Throwable err = f.transform(ar -> Future.succeededFuture(ar.cause())).await();
    return assertInstanceOf(UpgradeRejectedException.class, err, "the upgrade should have been refused");
  }

  private static long count(Refusal r) {
    return cluster.node(0).refusals().get(r);
  }

  private static TestPeer joinWithToken(String room, String peer) {
    TestPeer p = cluster.connect(0);
    p.send(new JsonObject().put("type", "join").put("room", room).put("peer", peer).put("token", token(room, peer)));
    p.welcome = p.expect("welcome");
    return p;
  }

  @Test
  @DisplayName("a join needs a valid token for its room: 4401 without, 4403 for another room; members see nothing")
  void tokens() {
    String room = room();
    try (TestPeer alice = joinWithToken(room, "alice")) {
      assertEquals("alice", alice.welcome.getString("peer"));
      // welcome.iceServers: the static STUN entry, then TURN with a credential made for alice.
      io.vertx.core.json.JsonArray ice = alice.welcome.getJsonArray("iceServers");
      assertEquals("stun:stun.example.org:3478", ice.getJsonObject(0).getString("urls"));
      JsonObject turn = ice.getJsonObject(1);
      assertEquals("turn:turn.example.org:3478?transport=udp", turn.getJsonArray("urls").getString(0));
      assertTrue(turn.getString("username").endsWith(":alice"), turn.encode());
      long expiry = Long.parseLong(turn.getString("username").split(":")[0]);
      long now = System.currentTimeMillis() / 1000;
      assertTrue(Math.abs(expiry - now - 24 * 3600) < 60, "valid for ice.turn-ttl (24 h): " + expiry);
      assertTrue(turn.getString("credential").length() == 28, "base64 of a 20-byte HMAC-SHA1");
      long unauthorized = count(Refusal.UNAUTHORIZED);
      long forbidden = count(Refusal.FORBIDDEN);

      TestPeer none = cluster.connect(0);
      none.send(new JsonObject().put("type", "join").put("room", room).put("peer", "mallory").put("id", 1));
      JsonObject e = none.expect("error");
      assertEquals("unauthorized", e.getString("code"));
      assertEquals(1L, e.getLong("id"));
      assertEquals(CloseCode.UNAUTHORIZED, none.awaitClose());

      TestPeer forged = cluster.connect(0);
      forged.send(new JsonObject().put("type", "join").put("room", room).put("peer", "mallory")
          .put("token", withPayload(token(room, "alice"), new JsonObject().put("room", room).put("peer", "mallory"))));
      assertEquals("unauthorized", forged.expect("error").getString("code"));
      assertEquals(CloseCode.UNAUTHORIZED, forged.awaitClose());

      TestPeer elsewhere = cluster.connect(0);
      elsewhere.send(new JsonObject().put("type", "join").put("room", room).put("peer", "mallory")
          .put("token", token("another-room", null)));
      assertEquals("forbidden", elsewhere.expect("error").getString("code"));
      assertEquals(CloseCode.FORBIDDEN, elsewhere.awaitClose());

      TestPeer impostor = cluster.connect(0);
      impostor.send(new JsonObject().put("type", "join").put("room", room).put("peer", "mallory")
          .put("token", token(room, "bob")));
      assertEquals("forbidden", impostor.expect("error").getString("code"));
      assertEquals(CloseCode.FORBIDDEN, impostor.awaitClose());

      alice.expectNothing(300);
      assertEquals(unauthorized + 2, count(Refusal.UNAUTHORIZED));
      assertEquals(forbidden + 2, count(Refusal.FORBIDDEN));

      // The token's peer claim names a peer whose join named none; the room sees it join.
      TestPeer bob = cluster.connect(0);
      bob.send(new JsonObject().put("type", "join").put("room", room).put("token", token(room, "bob")));
      assertEquals("bob", bob.expect("welcome").getString("peer"));
      assertEquals("bob", alice.expect("peer-joined").getString("peer"));
      bob.close();
    }
  }

  @Test
  @DisplayName("pages of other origins get 403 JSON; listed, wildcard, same-origin and origin-less clients connect")
  void origins() throws Exception {
    long before = count(Refusal.ORIGIN);
    UpgradeRejectedException e = rejected(open("198.51.100.1", "https://evil.example.com"));
    assertEquals(403, e.getStatus());
    assertEquals("origin-not-allowed", new JsonObject(e.getBody()).getString("error"));
    assertEquals(403, rejected(open("198.51.100.1", "https://example.org")).getStatus(),
        "*.example.org allows subdomains, not the domain itself");
    assertEquals(403, rejected(open("198.51.100.1", "null")).getStatus(), "sandboxed pages send Origin: null");
    assertEquals(before + 3, count(Refusal.ORIGIN));
    List<WebSocket> opened = new ArrayList<>();
    opened.add(open("198.51.100.2", "https://app.example.com").await());
    opened.add(open("198.51.100.3", "https://meet.example.org").await());
    opened.add(open("198.51.100.4", "http://127.0.0.1:" + cluster.port(0)).await());
    opened.add(open("198.51.100.5", null).await());
    for (WebSocket w : opened) {
      w.close().await();
    }
  }

  @Test
  @DisplayName("one address: at most 3 open sockets and a burst of 6 new ones; other addresses unaffected")
  void perAddressLimits() {
    String ip = "203.0.113.7";
    long before = count(Refusal.IP_CONNECTIONS);
    List<WebSocket> open = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      open.add(open(ip, null).await());
    }
    UpgradeRejectedException full = rejected(open(ip, null));
    assertEquals(429, full.getStatus());
    assertEquals("too-many-connections", new JsonObject(full.getBody()).getString("error"));
    assertEquals("1", full.getHeaders().get("Retry-After"));
    assertEquals(before + 1, count(Refusal.IP_CONNECTIONS));
    // Someone else behind the same load balancer is not affected.
    open(ip.replace(".7", ".8"), null).await().close().await();
    // A closed socket gives its slot back.
    open.remove(0).close().await();
    assertTrue(Waits.waitFor(5000, () -> open(ip, null).transform(ar -> {
      if (ar.succeeded()) {
        open.add(ar.result());
      }
      return Future.succeededFuture(ar.succeeded());
    }).await()), "a slot frees up when a socket closes");
    // 4 sockets were taken from a burst of 6 refilled at 1/s: 8 more in quick succession exhaust it.
    for (WebSocket w : open) {
      w.close().await();
    }
    long rateBefore = count(Refusal.IP_RATE);
    int refusedForRate = 0;
    for (int i = 0; i < 8; i++) {
      Future<WebSocket> f = open(ip, null);
      Throwable err = f.transform(ar -> Future.succeededFuture(ar.cause())).await();
      if (err == null) {
        f.result().close().await();
      } else {
        assertEquals(429, assertInstanceOf(UpgradeRejectedException.class, err).getStatus());
        refusedForRate++;
      }
    }
    assertTrue(refusedForRate >= 1, "past the burst, new sockets are refused");
    assertEquals(rateBefore + refusedForRate, count(Refusal.IP_RATE));
  }

  @Test
  @DisplayName("X-Forwarded-For written by the client itself is not believed past the trusted proxy")
  void spoofedForwardedFor() {
    // The proxy (127.0.0.1) appends the address it saw: the rightmost entry is the client.
    String real = "192.0.2.44";
    List<WebSocket> open = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      open.add(open("10.9.9." + i + ", " + real, null).await());
    }
    assertEquals(429, rejected(open("10.9.9.200, " + real, null)).getStatus(),
        "entries left of the proxy's are the client's own words");
    open.forEach(w -> w.close().await());
  }

  @Test
  @DisplayName("GET /metrics counts every refusal in the Prometheus text format")
  void metricsEndpoint() {
    rejected(open("198.51.100.9", "https://evil.example.com"));
    String text = http.request(HttpMethod.GET, cluster.port(0), "127.0.0.1", "/metrics")
        .compose(r -> r.send().compose(resp -> {
          assertEquals(200, resp.statusCode());
          assertTrue(resp.getHeader("Content-Type").startsWith("text/plain"));
          return resp.body();
        })).await().toString();
    assertTrue(text.contains("# TYPE switchboard_refusals_total counter"), text);
    assertTrue(text.contains("switchboard_refusals_total{reason=\"origin\"} " + (double) count(Refusal.ORIGIN)), text);
    for (Refusal r : Refusal.values()) {
      assertTrue(text.contains("reason=\"" + r.label() + "\""), r.label());
    }
    assertTrue(text.contains("switchboard_connections "), text);
  }
}
