package dev.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.auth.RoomTokens;
import dev.switchboard.testing.TestCluster;
import dev.switchboard.testing.TestPeer;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * A session lives as long as its token: when the token's {@code exp} passes the socket is closed
 * with 4401, unless the client sent {@code refresh} with a fresh token first; the session is then
 * away, and taking it back (through any node) needs a valid token. Two nodes with room tokens,
 * no clock skew allowed, resume on; tokens live two seconds ({@code exp} is in whole seconds, so
 * one expires 1 to 2 s after it is minted).
 */
class TokenExpiryTest {

  static final String SECRET = "token-expiry-test-secret-32-bytes-long";

  static TestCluster cluster;

  @BeforeAll
  static void start() {
    cluster = TestCluster.start(2, Map.of("auth-secret", SECRET, "auth-clock-skew", "0s",
        "limits-resume-window", "15s"));
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  private static String token(String room, String peer, Duration ttl) {
    return RoomTokens.mint(cluster.clientVertx(), SECRET, room, peer, null, ttl, null, null);
  }

  private static TestPeer join(int node, String room, String peer, String token) {
    TestPeer p = cluster.connect(node);
    p.send(new JsonObject().put("type", "join").put("room", room).put("peer", peer).put("token", token));
    p.welcome = p.expect("welcome");
    return p;
  }

  /** A socket on {@code node} that resumes {@code peer}'s session with {@code resume}, showing {@code token}. */
  private static TestPeer resume(int node, String room, String peer, String token, String resume) {
    TestPeer p = cluster.connect(node);
    p.send(new JsonObject().put("type", "join").put("room", room).put("peer", peer).put("token", token)
        .put("resume", resume).put("received", 0));
    return p;
  }

  @Test
  @DisplayName("a token that expires closes its socket with 4401; the others see nothing, and a fresh token resumes the session through the other node")
  void expiryClosesTheSocket() {
    TestPeer bob = join(1, "exp-1", "bob", token("exp-1", "bob", Duration.ofMinutes(5)));
    long joinedAt = System.currentTimeMillis();
    String aliceToken = token("exp-1", "alice", Duration.ofSeconds(2));
    TestPeer alice = join(0, "exp-1", "alice", aliceToken);
    bob.expectPast("peer-joined");
    JsonObject told = alice.expectPast("error");
    assertEquals("unauthorized", told.getString("code"), told.encode());
    assertTrue(told.getString("message").contains("expired"), told.encode());
    assertEquals(4401, alice.awaitClose());
    long after = System.currentTimeMillis() - joinedAt;
    assertTrue(after >= 900 && after <= 4000, "closed " + after + " ms after a 2 s token was minted");
    bob.expectNothing(300); // alice is away, not gone

    // Its own token has expired: with it, the session cannot be taken back.
    TestPeer stale = resume(1, "exp-1", "alice", aliceToken, alice.welcome.getString("resume"));
    assertEquals("unauthorized", stale.expectPast("error").getString("code"));
    assertEquals(4401, stale.awaitClose());
    TestPeer fresh = resume(1, "exp-1", "alice", token("exp-1", "alice", Duration.ofMinutes(5)),
        alice.welcome.getString("resume"));
    JsonObject welcome = fresh.expect("welcome");
    assertEquals(true, welcome.getBoolean("resumed"), welcome.encode());
    bob.expectNothing(300); // no peer-left, no peer-joined: the session went on
  }

  @Test
  @DisplayName("a refresh with a fresh token keeps the socket open past the old token's expiry; one for another room or peer, or no JWT, is refused and changes nothing")
  void refreshKeepsTheSocket() throws InterruptedException {
    TestPeer carol = join(1, "exp-2", "carol", token("exp-2", "carol", Duration.ofSeconds(2)));
    carol.send(new JsonObject().put("type", "refresh").put("token", token("exp-2", "mallory", Duration.ofMinutes(5)))
        .put("id", "r1"));
    JsonObject otherPeer = carol.expectPast("error");
    assertEquals(List.of("forbidden", "r1"), List.of(otherPeer.getString("code"), otherPeer.getString("id")));
    carol.send(new JsonObject().put("type", "refresh").put("token", token("other-room", "carol",
        Duration.ofMinutes(5))).put("id", "r2"));
    assertEquals("forbidden", carol.expectPast("error").getString("code"));
    carol.send(new JsonObject().put("type", "refresh").put("token", "not.a.jwt").put("id", "r3"));
    assertEquals("unauthorized", carol.expectPast("error").getString("code"));
    carol.send(new JsonObject().put("type", "refresh").put("token", token("exp-2", "carol", Duration.ofSeconds(30)))
        .put("id", "r4"));
    assertEquals("r4", carol.expectPast("ack").getString("id"));
    Thread.sleep(2500); // past the first token's exp
    carol.send(new JsonObject().put("type", "ping").put("id", "still"));
    assertEquals("still", carol.expectPast("pong").getString("id"), "the refreshed socket is open");
    assertTrue(!carol.isClosed());
  }
}
