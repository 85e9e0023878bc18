package dev.switchboard.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.config.Config;
import dev.switchboard.config.PublicKeyPem;
import dev.switchboard.protocol.ClientMessage;
import dev.switchboard.protocol.ClientMessage.Role;
import dev.switchboard.protocol.CloseCode;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.testing.Pem;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Room tokens through vertx-auth-jwt: every algorithm, every claim, and the classic attacks. */
class RoomTokensTest {

  private static final String SECRET = "a-test-secret-of-at-least-32-bytes!!";
  private static Vertx vertx;
  private static KeyPair rsa;
  private static KeyPair ec;

  @BeforeAll
  static void setUp() {
    vertx = Vertx.vertx();
    rsa = Pem.rsa();
    ec = Pem.ec("secp256r1");
  }

  @AfterAll
  static void tearDown() {
    vertx.close().await();
  }

  private static Config.Auth auth(String secret, PublicKeyPem key, String issuer, String audience) {
    return new Config.Auth(secret, key, issuer, audience, Duration.ofSeconds(30));
  }

  private static PublicKeyPem key(KeyPair pair, String alg) {
    return new PublicKeyPem(Pem.publicKey(pair), alg);
  }

  private static ClientMessage.Join join(String room, String peer, Role role, String token) {
    return new ClientMessage.Join("j1", room, peer, token, new JsonObject(), role, null, -1);
  }

  private static String hs256(String secret, JsonObject claims, JWTOptions options) {
    return JWTAuth.create(vertx, new JWTAuthOptions()
            .addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(secret)))
        .generateToken(claims, options.setAlgorithm("HS256"));
  }

  private static String signed(KeyPair pair, String alg, JsonObject claims) {
    return JWTAuth.create(vertx, new JWTAuthOptions()
            .addPubSecKey(new PubSecKeyOptions().setAlgorithm(alg).setBuffer(Pem.privateKey(pair))))
        .generateToken(claims, new JWTOptions().setAlgorithm(alg).setExpiresInSeconds(60));
  }

  private static RoomTokens.Admission admit(RoomTokens tokens, ClientMessage.Join join) {
    return tokens.admit(join).await();
  }

  private static void refused(RoomTokens.Admission a, ErrorCode error, short close) {
    RoomTokens.Refused r = assertInstanceOf(RoomTokens.Refused.class, a);
    assertEquals(error, r.error());
    assertEquals(close, r.close());
  }

  @Test
  @DisplayName("with no secret and no key the node runs open: no RoomTokens at all")
  void openWithoutAuth() {
    assertNull(RoomTokens.create(vertx, auth("", PublicKeyPem.NONE, "", "")));
  }

  @Test
  @DisplayName("an HS256 token for the room is granted; its peer claim names a peer that sent none")
  void hs256Granted() {
    RoomTokens t = RoomTokens.create(vertx, auth(SECRET, PublicKeyPem.NONE, "", ""));
    String token = RoomTokens.mint(vertx, SECRET, "r1", "alice", null, Duration.ofMinutes(5), null, null);
    RoomTokens.Granted g = assertInstanceOf(RoomTokens.Granted.class, admit(t, join("r1", null, Role.PEER, token)));
    assertEquals("alice", g.join().peer());
    assertInstanceOf(RoomTokens.Granted.class, admit(t, join("r1", "alice", Role.PEER, token)));
    String any = RoomTokens.mint(vertx, SECRET, "*", null, null, Duration.ofMinutes(5), null, null);
    RoomTokens.Granted g2 = assertInstanceOf(RoomTokens.Granted.class, admit(t, join("other", "bob", Role.VIEWER, any)));
    assertEquals("bob", g2.join().peer());
  }

  @Test
  @DisplayName("missing, garbage, wrongly signed, expired and not-yet-valid tokens: unauthorized, 4401")
  void unauthorized() {
    RoomTokens t = RoomTokens.create(vertx, auth(SECRET, PublicKeyPem.NONE, "", ""));
    refused(admit(t, join("r1", "a", Role.PEER, null)), ErrorCode.UNAUTHORIZED, CloseCode.UNAUTHORIZED);
    refused(admit(t, join("r1", "a", Role.PEER, "")), ErrorCode.UNAUTHORIZED, CloseCode.UNAUTHORIZED);
    refused(admit(t, join("r1", "a", Role.PEER, "not.a.jwt")), ErrorCode.UNAUTHORIZED, CloseCode.UNAUTHORIZED);
    refused(admit(t, join("r1", "a", Role.PEER, "%%%")), ErrorCode.UNAUTHORIZED, CloseCode.UNAUTHORIZED);
    String other = RoomTokens.mint(vertx, "another-secret-of-at-least-32-bytes!", "r1", null, null,
        Duration.ofMinutes(5), null, null);
    refused(admit(t, join("r1", "a", Role.PEER, other)), ErrorCode.UNAUTHORIZED, CloseCode.UNAUTHORIZED);
    long now = System.currentTimeMillis() / 1000;
    String expired = hs256(SECRET, new JsonObject().put("room", "r1").put("exp", now - 31), new JWTOptions()
        .setNoTimestamp(true));
    refused(admit(t, join("r1", "a", Role.PEER, expired)), ErrorCode.UNAUTHORIZED, CloseCode.UNAUTHORIZED);
    String early = hs256(SECRET, new JsonObject().put("room", "r1").put("nbf", now + 120), new JWTOptions()
        .setNoTimestamp(true));
    refused(admit(t, join("r1", "a", Role.PEER, early)), ErrorCode.UNAUTHORIZED, CloseCode.UNAUTHORIZED);
  }

  @Test
  @DisplayName("clock skew: a token expired 10 s ago or valid in 10 s is still accepted with 30 s of tolerance")
  void clockSkew() {
    RoomTokens t = RoomTokens.create(vertx, auth(SECRET, PublicKeyPem.NONE, "", ""));
    long now = System.currentTimeMillis() / 1000;
    String justExpired = hs256(SECRET, new JsonObject().put("room", "r1").put("exp", now - 10),
        new JWTOptions().setNoTimestamp(true));
    assertInstanceOf(RoomTokens.Granted.class, admit(t, join("r1", "a", Role.PEER, justExpired)));
    String soon = hs256(SECRET, new JsonObject().put("room", "r1").put("nbf", now + 10),
        new JWTOptions().setNoTimestamp(true));
    assertInstanceOf(RoomTokens.Granted.class, admit(t, join("r1", "a", Role.PEER, soon)));
  }

  @Test
  @DisplayName("a valid token for another room, peer or role: forbidden, 4403")
  void forbidden() {
    RoomTokens t = RoomTokens.create(vertx, auth(SECRET, PublicKeyPem.NONE, "", ""));
    Duration ttl = Duration.ofMinutes(5);
    refused(admit(t, join("r2", "a", Role.PEER, RoomTokens.mint(vertx, SECRET, "r1", null, null, ttl, null, null))),
        ErrorCode.FORBIDDEN, CloseCode.FORBIDDEN);
    refused(admit(t, join("r1", "mallory", Role.PEER,
        RoomTokens.mint(vertx, SECRET, "r1", "alice", null, ttl, null, null))), ErrorCode.FORBIDDEN, CloseCode.FORBIDDEN);
    refused(admit(t, join("r1", "a", Role.PEER,
        RoomTokens.mint(vertx, SECRET, "r1", null, "viewer", ttl, null, null))), ErrorCode.FORBIDDEN, CloseCode.FORBIDDEN);
    refused(admit(t, join("r1", "a", Role.PRESENTER,
        RoomTokens.mint(vertx, SECRET, "r1", null, null, ttl, null, null))), ErrorCode.FORBIDDEN, CloseCode.FORBIDDEN);
    assertInstanceOf(RoomTokens.Granted.class, admit(t, join("r1", "a", Role.PRESENTER,
        RoomTokens.mint(vertx, SECRET, "r1", null, "presenter", ttl, null, null))));
    // A join that names no role takes the token's; without a role claim it keeps the room's default.
    RoomTokens.Granted presenting = assertInstanceOf(RoomTokens.Granted.class, admit(t, join("r1", "a", null,
        RoomTokens.mint(vertx, SECRET, "r1", null, "presenter", ttl, null, null))));
    assertEquals(Role.PRESENTER, presenting.join().role());
    long mintedAt = System.currentTimeMillis();
    RoomTokens.Granted plain = assertInstanceOf(RoomTokens.Granted.class, admit(t, join("r1", "a", null,
        RoomTokens.mint(vertx, SECRET, "r1", null, null, ttl, null, null))));
    assertNull(plain.join().role());
    // Granted until exp (whole seconds) plus the clock skew allowed.
    long skew = auth(SECRET, PublicKeyPem.NONE, "", "").clockSkew().toMillis();
    long until = plain.expiresAtMs() - mintedAt;
    assertTrue(until > ttl.toMillis() + skew - 1500 && until <= ttl.toMillis() + skew + 1000, "expires in " + until);
    refused(admit(t, join("r1", "a", null, RoomTokens.mint(vertx, SECRET, "r1", null, "admin", ttl, null, null))),
        ErrorCode.FORBIDDEN, CloseCode.FORBIDDEN);
    // A token without a room claim grants nothing.
    String roomless = hs256(SECRET, new JsonObject().put("peer", "a"), new JWTOptions().setExpiresInSeconds(60));
    refused(admit(t, join("r1", "a", Role.PEER, roomless)), ErrorCode.FORBIDDEN, CloseCode.FORBIDDEN);
  }

  @Test
  @DisplayName("iss and aud, when configured, must match")
  void issuerAndAudience() {
    RoomTokens t = RoomTokens.create(vertx, auth(SECRET, PublicKeyPem.NONE, "https://app.example.com", "switchboard"));
    Duration ttl = Duration.ofMinutes(5);
    assertInstanceOf(RoomTokens.Granted.class, admit(t, join("r1", "a", Role.PEER, RoomTokens.mint(vertx, SECRET,
        "r1", null, null, ttl, "https://app.example.com", "switchboard"))));
    refused(admit(t, join("r1", "a", Role.PEER, RoomTokens.mint(vertx, SECRET, "r1", null, null, ttl,
        "https://evil.example.com", "switchboard"))), ErrorCode.UNAUTHORIZED, CloseCode.UNAUTHORIZED);
    refused(admit(t, join("r1", "a", Role.PEER, RoomTokens.mint(vertx, SECRET, "r1", null, null, ttl,
        "https://app.example.com", "another-service"))), ErrorCode.UNAUTHORIZED, CloseCode.UNAUTHORIZED);
    refused(admit(t, join("r1", "a", Role.PEER, RoomTokens.mint(vertx, SECRET, "r1", null, null, ttl, null, null))),
        ErrorCode.UNAUTHORIZED, CloseCode.UNAUTHORIZED);
  }

  @Test
  @DisplayName("RS256 and ES256 tokens verify with the public key; other keys' tokens do not")
  void publicKeys() {
    RoomTokens rs = RoomTokens.create(vertx, auth("", key(rsa, "RS256"), "", ""));
    JsonObject claims = new JsonObject().put("room", "r1");
    assertInstanceOf(RoomTokens.Granted.class, admit(rs, join("r1", "a", Role.PEER, signed(rsa, "RS256", claims))));
    refused(admit(rs, join("r1", "a", Role.PEER, signed(Pem.rsa(), "RS256", claims))),
        ErrorCode.UNAUTHORIZED, CloseCode.UNAUTHORIZED);
    RoomTokens es = RoomTokens.create(vertx, auth("", key(ec, "ES256"), "", ""));
    assertInstanceOf(RoomTokens.Granted.class, admit(es, join("r1", "a", Role.PEER, signed(ec, "ES256", claims))));
    refused(admit(es, join("r1", "a", Role.PEER, signed(Pem.ec("secp256r1"), "ES256", claims))),
        ErrorCode.UNAUTHORIZED, CloseCode.UNAUTHORIZED);
  }

  @Test
  @DisplayName("algorithm confusion: an HS256 token keyed with the public key, or alg none, is refused")
  void algorithmConfusion() {
    RoomTokens rs = RoomTokens.create(vertx, auth("", key(rsa, "RS256"), "", ""));
    String confused = hs256(Pem.publicKey(rsa), new JsonObject().put("room", "r1"),
        new JWTOptions().setExpiresInSeconds(60));
    refused(admit(rs, join("r1", "a", Role.PEER, confused)), ErrorCode.UNAUTHORIZED, CloseCode.UNAUTHORIZED);
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    String none = b64.encodeToString("{\"alg\":\"none\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8)) + "."
        + b64.encodeToString("{\"room\":\"r1\"}".getBytes(StandardCharsets.UTF_8)) + ".";
    refused(admit(rs, join("r1", "a", Role.PEER, none)), ErrorCode.UNAUTHORIZED, CloseCode.UNAUTHORIZED);
    RoomTokens hs = RoomTokens.create(vertx, auth(SECRET, PublicKeyPem.NONE, "", ""));
    refused(admit(hs, join("r1", "a", Role.PEER, none)), ErrorCode.UNAUTHORIZED, CloseCode.UNAUTHORIZED);
    // An RS256 token where only the HS256 secret is configured.
    refused(admit(hs, join("r1", "a", Role.PEER, signed(rsa, "RS256", new JsonObject().put("room", "r1")))),
        ErrorCode.UNAUTHORIZED, CloseCode.UNAUTHORIZED);
  }

  @Test
  @DisplayName("a refusal's reason never repeats the token")
  void reasonHidesToken() {
    RoomTokens t = RoomTokens.create(vertx, auth(SECRET, PublicKeyPem.NONE, "", ""));
    String token = RoomTokens.mint(vertx, "another-secret-of-at-least-32-bytes!", "r1", null, null,
        Duration.ofMinutes(5), null, null);
    RoomTokens.Refused r = assertInstanceOf(RoomTokens.Refused.class, admit(t, join("r1", "a", Role.PEER, token)));
    for (String part : List.of(token.split("\\."))) {
      assertEquals(-1, r.reason().indexOf(part), r.reason());
    }
  }
}
