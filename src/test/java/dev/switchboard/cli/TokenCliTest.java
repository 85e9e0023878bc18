package dev.switchboard.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.auth.RoomTokens;
import dev.switchboard.config.ConfigLoader;
import dev.switchboard.protocol.ClientMessage;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** {@code switchboard token}: mints what a node with the same secret accepts, and nothing else. */
class TokenCliTest {

  private static final String SECRET = "token-command-secret-at-least-32-bytes";

  private record Run(int code, String out, String err) {
  }

  private static Run run(Map<String, String> env, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    List<String> all = new ArrayList<>(List.of("token"));
    all.addAll(List.of(args));
    int code = SwitchboardCli.execute(all.toArray(String[]::new), env, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), config -> {
          throw new AssertionError("token does not run a node");
        });
    return new Run(code, out.toString(StandardCharsets.UTF_8).trim(), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  @DisplayName("a minted token is accepted by a node with the same secret, for its room and peer only")
  void mintedTokenWorks() {
    Run r = run(Map.of("SWITCHBOARD_AUTH_SECRET", SECRET), "--room", "demo", "--peer", "alice", "--ttl", "10m");
    assertEquals(0, r.code(), r.err());
    JsonObject claims = new JsonObject(new String(Base64.getUrlDecoder().decode(r.out().split("\\.")[1]),
        StandardCharsets.UTF_8));
    assertEquals("demo", claims.getString("room"));
    assertEquals("alice", claims.getString("peer"));
    assertEquals(600, claims.getLong("exp") - claims.getLong("iat"));
    Vertx vertx = Vertx.vertx();
    try {
      RoomTokens tokens = RoomTokens.create(vertx,
          ConfigLoader.load(List.of("--auth-secret", SECRET), Map.of()).auth());
      RoomTokens.Granted g = assertInstanceOf(RoomTokens.Granted.class, tokens.admit(
          new ClientMessage.Join(null, "demo", null, r.out(), new JsonObject(), ClientMessage.Role.PEER, null, -1)).await());
      assertEquals("alice", g.join().peer());
      assertInstanceOf(RoomTokens.Refused.class, tokens.admit(
          new ClientMessage.Join(null, "other", null, r.out(), new JsonObject(), ClientMessage.Role.PEER, null, -1)).await());
    } finally {
      vertx.close().await();
    }
  }

  @Test
  @DisplayName("without auth.secret, or with bad arguments, it exits 2 with a message and prints no token")
  void refusals() {
    Run noSecret = run(Map.of(), "--room", "demo");
    assertEquals(2, noSecret.code());
    assertTrue(noSecret.err().contains("auth.secret"), noSecret.err());
    assertEquals("", noSecret.out());
    Map<String, String> env = Map.of("SWITCHBOARD_AUTH_SECRET", SECRET);
    assertEquals(2, run(env).code(), "--room is required");
    assertEquals(2, run(env, "--room", "bad room").code());
    assertEquals(2, run(env, "--room", "demo", "--peer", "a/b").code());
    assertEquals(2, run(env, "--room", "demo", "--role", "admin").code());
    assertEquals(2, run(env, "--room", "demo", "--ttl", "forever").code());
    assertEquals(2, run(env, "--room", "demo", "--ttl", "90d").code());
    Run shortSecret = run(Map.of("SWITCHBOARD_AUTH_SECRET", "short-secret-value"), "--room", "demo");
    assertEquals(2, shortSecret.code());
    assertFalse(shortSecret.err().contains("short-secret-value"), "the secret is not echoed: " + shortSecret.err());
  }
}
