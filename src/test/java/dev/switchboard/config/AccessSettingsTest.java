package dev.switchboard.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.testing.Pem;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Settings of tokens, origins, proxies, TURN and the socket limits of issue 4. */
class AccessSettingsTest {

  private static final String SECRET = "0123456789abcdef0123456789abcdef";

  private static Config load(String... args) {
    return ConfigLoader.load(List.of(args), Map.of());
  }

  private static ConfigException fails(String... args) {
    return assertThrows(ConfigException.class, () -> load(args));
  }

  @Test
  @DisplayName("an auth.secret shorter than 32 bytes is refused without echoing it")
  void shortSecretRefused() {
    ConfigException e = fails("--auth-secret", "tooshort-but-secret");
    assertTrue(e.getMessage().contains("auth.secret"), e.getMessage());
    assertFalse(e.getMessage().contains("tooshort-but-secret"), "the secret must not be echoed: " + e.getMessage());
  }

  @Test
  @DisplayName("auth.secret from the environment turns tokens on; toString never shows it")
  void secretFromEnvironment() {
    Config c = ConfigLoader.load(List.of(), Map.of("SWITCHBOARD_AUTH_SECRET", SECRET));
    assertTrue(c.auth().enabled());
    assertFalse(c.toString().contains(SECRET));
    assertFalse(c.auth().toString().contains(SECRET));
  }

  @Test
  @DisplayName("a public key is read inline or from a file; RSA means RS256, EC P-256 means ES256")
  void publicKeys(@TempDir Path dir) throws IOException {
    String rsa = Pem.publicKey(Pem.rsa());
    assertEquals("RS256", load("--auth-public-key", rsa).auth().publicKey().algorithm());
    Path file = dir.resolve("ec.pem");
    Files.writeString(file, Pem.publicKey(Pem.ec("secp256r1")));
    Config c = load("--auth-public-key", file.toString());
    assertEquals("ES256", c.auth().publicKey().algorithm());
    assertTrue(c.auth().enabled());
  }

  @Test
  @DisplayName("a public key that is not RSA or P-256, or no key at all, is refused")
  void badPublicKeys(@TempDir Path dir) {
    assertTrue(fails("--auth-public-key", Pem.publicKey(Pem.ec("secp384r1"))).getMessage().contains("P-256"));
    assertTrue(fails("--auth-public-key", dir.resolve("missing.pem").toString()).getMessage()
        .contains("auth.public-key"));
    assertTrue(fails("--auth-public-key", "-----BEGIN PUBLIC KEY-----\n!!!\n-----END PUBLIC KEY-----")
        .getMessage().contains("auth.public-key"));
  }

  @Test
  @DisplayName("origins are lower-cased, trailing slashes dropped, wildcards only as a leading *.")
  void origins() {
    assertEquals(List.of("https://app.example.com", "https://*.example.org"),
        load("--http-allowed-origins", "https://App.Example.com/, https://*.example.org").access().allowedOrigins());
    assertTrue(fails("--http-allowed-origins", "app.example.com").getMessage().contains("http.allowed-origins"));
    assertTrue(fails("--http-allowed-origins", "https://ex*ample.com").getMessage().contains("http.allowed-origins"));
  }

  @Test
  @DisplayName("trusted proxies are IP addresses or CIDRs, never host names")
  void trustedProxies() {
    Config c = load("--http-trusted-proxies", "10.0.0.0/8, 192.168.1.7, fd00::/8");
    assertEquals(3, c.access().trustedProxies().size());
    assertTrue(c.access().trustedProxies().get(0).contains("10.200.3.4"));
    assertFalse(c.access().trustedProxies().get(0).contains("11.0.0.1"));
    assertTrue(c.access().trustedProxies().get(1).contains("192.168.1.7"));
    assertFalse(c.access().trustedProxies().get(1).contains("192.168.1.8"));
    assertTrue(c.access().trustedProxies().get(2).contains("fd12::1"));
    assertTrue(fails("--http-trusted-proxies", "lb.example.com").getMessage().contains("http.trusted-proxies"));
    assertTrue(fails("--http-trusted-proxies", "10.0.0.0/33").getMessage().contains("http.trusted-proxies"));
  }

  @Test
  @DisplayName("TURN URIs need a secret; the secret is never echoed")
  void turn() {
    assertTrue(fails("--ice-turn-urls", "turn:turn.example.com:3478").getMessage().contains("ice.turn-secret"));
    Config c = load("--ice-turn-urls", "turn:turn.example.com:3478?transport=udp,turns:turn.example.com:5349",
        "--ice-turn-secret", "s3cret", "--ice-turn-ttl", "2h");
    assertEquals(List.of("turn:turn.example.com:3478?transport=udp", "turns:turn.example.com:5349"),
        c.ice().turnUrls());
    assertEquals(Duration.ofHours(2), c.ice().turnTtl());
    assertFalse(c.ice().toString().contains("s3cret"));
    assertTrue(fails("--ice-turn-urls", "http://turn.example.com").getMessage().contains("ice.turn-urls"));
  }

  @Test
  @DisplayName("a pong timeout must outlast the ping interval; the outbound cap must cover the slow mark")
  void socketLimitRelations() {
    assertTrue(fails("--limits-ping-interval", "10s", "--limits-pong-timeout", "10s").getMessage()
        .contains("limits.pong-timeout"));
    assertTrue(fails("--limits-write-queue-bytes", "200000", "--limits-outbound-bytes", "100000").getMessage()
        .contains("limits.outbound-bytes"));
  }
}
