package dev.switchboard.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.switchboard.config.Config;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * TURN REST API credentials: the exact format (pure unit tests), and that a real coturn accepts a
 * fresh credential and refuses a wrongly signed, an expired and a tampered one ({@link AgainstCoturn},
 * skipped when {@code turnserver} / {@code turnutils_uclient} are not on PATH).
 */
class TurnCredentialsTest {

  private static final Duration DAY = Duration.ofHours(24);

  private static Config.Ice ice(JsonArray servers, List<String> turnUrls, String secret, Duration ttl) {
    return new Config.Ice(servers, turnUrls, secret, ttl);
  }

  // ---------------------------------------------------------------------------------------------
  // Pure unit tests: no coturn needed.
  // ---------------------------------------------------------------------------------------------

  @Test
  @DisplayName("the credential is base64(HMAC-SHA1(secret, username)), checked against openssl vectors")
  void credentialIsBase64HmacSha1() {
    // Vector made once with:
    //   printf '%s' '1700086400:alice' | openssl dgst -sha1 -hmac 'north-wind' -binary | base64
    //   -> 2cdv8ItP/4kX53j3SEoTDhjFpeM=   (hex d9c76ff08b4fff8917e778f7484a130e18c5a5e3)
    // 1700086400 = 1700000000 (now, seconds) + 86400 (ttl 24h).
    TurnCredentials creds = new TurnCredentials(
        ice(new JsonArray(), List.of("turn:turn.example.org:3478"), "north-wind", DAY));
    JsonArray servers = creds.iceServers("alice", 1_700_000_000_000L);
    assertEquals(1, servers.size(), servers.encode());
    JsonObject turn = servers.getJsonObject(0);
    assertEquals("1700086400:alice", turn.getString("username"));
    assertEquals("2cdv8ItP/4kX53j3SEoTDhjFpeM=", turn.getString("credential"));
    assertEquals(20, Base64.getDecoder().decode(turn.getString("credential")).length, "an HMAC-SHA1 is 20 bytes");

    // Vector made once with:
    //   printf '%s' 'user' | openssl dgst -sha1 -hmac secret -binary | base64
    //   -> An2kjIxkLKTFjrmC7sgZFReed6M=
    TurnCredentials plain = new TurnCredentials(ice(new JsonArray(), List.of("turn:x"), "secret", DAY));
    assertEquals("An2kjIxkLKTFjrmC7sgZFReed6M=", plain.credential("user"));
  }

  @Test
  @DisplayName("the username is <now in seconds + ttl seconds>:<peer>")
  void usernameExpiryIsNowPlusTtl() {
    TurnCredentials creds = new TurnCredentials(
        ice(new JsonArray(), List.of("turn:turn.example.org:3478"), "north-wind", Duration.ofSeconds(90)));
    // Milliseconds below a second are dropped, not rounded up.
    assertEquals("1700000090:peer-1",
        creds.iceServers("peer-1", 1_700_000_000_999L).getJsonObject(0).getString("username"));
    assertEquals("1700000091:peer-1",
        creds.iceServers("peer-1", 1_700_000_001_000L).getJsonObject(0).getString("username"));

    TurnCredentials daily = new TurnCredentials(
        ice(new JsonArray(), List.of("turn:turn.example.org:3478"), "north-wind", DAY));
    long now = System.currentTimeMillis();
    String username = daily.iceServers("bob", now).getJsonObject(0).getString("username");
    String[] parts = username.split(":", 2);
    assertEquals(now / 1000 + 86_400, Long.parseLong(parts[0]), username);
    assertEquals("bob", parts[1]);
  }

  @Test
  @DisplayName("static ice.servers entries come first and unchanged, then one TURN entry with the TURN URLs")
  void staticEntriesKeptFirst() {
    JsonObject stun = new JsonObject().put("urls", "stun:stun.example.org:3478");
    JsonObject staticTurn = new JsonObject()
        .put("urls", new JsonArray().add("turn:static.example.org:3478"))
        .put("username", "fixed-user")
        .put("credential", "fixed-pass");
    JsonArray configured = new JsonArray().add(stun).add(staticTurn);
    String before = configured.encode();
    List<String> urls = List.of("turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:5349");
    TurnCredentials creds = new TurnCredentials(ice(configured, urls, "north-wind", DAY));

    JsonArray out = creds.iceServers("carol", 1_700_000_000_000L);
    assertEquals(3, out.size(), out.encode());
    assertEquals(stun, out.getJsonObject(0));
    assertEquals(staticTurn, out.getJsonObject(1));
    JsonObject turn = out.getJsonObject(2);
    assertEquals(new JsonArray(urls), turn.getJsonArray("urls"));
    assertEquals("1700086400:carol", turn.getString("username"));
    assertNotNull(turn.getString("credential"));
    assertEquals(3, turn.size(), "urls, username, credential and nothing else: " + turn.encode());

    // The configuration is not touched, and a second call does not accumulate entries.
    assertEquals(before, configured.encode());
    assertEquals(3, creds.iceServers("dave", 1_700_000_000_000L).size());
    // What a caller does with its copy does not leak into the next welcome.
    out.getJsonObject(0).put("urls", "stun:changed.example.org");
    out.add("junk");
    assertEquals(before, configured.encode());
    assertEquals(stun.encode(), creds.iceServers("erin", 1_700_000_000_000L).getJsonObject(0).encode());
  }

  @Test
  @DisplayName("no TURN entry without TURN URLs (nor an unsigned one without a secret)")
  void noTurnEntryWithoutUrls() {
    JsonArray configured = new JsonArray().add(new JsonObject().put("urls", "stun:stun.example.org:3478"));
    JsonArray noUrls = new TurnCredentials(ice(configured, List.of(), "north-wind", DAY))
        .iceServers("alice", 1_700_000_000_000L);
    assertEquals(configured, noUrls);

    assertEquals(new JsonArray(), new TurnCredentials(ice(new JsonArray(), List.of(), "north-wind", DAY))
        .iceServers("alice", 1_700_000_000_000L));
    assertEquals(new JsonArray(), new TurnCredentials(ice(new JsonArray(), List.of(), "", DAY))
        .iceServers("alice", 1_700_000_000_000L));

    // Config refuses TURN URLs without a secret; should one get here anyway, no entry without a
    // credential is handed out.
    JsonArray unsigned = new TurnCredentials(ice(configured, List.of("turn:turn.example.org:3478"), "", DAY))
        .iceServers("alice", 1_700_000_000_000L);
    assertEquals(configured, unsigned);
  }

  // ---------------------------------------------------------------------------------------------
  // Against a real coturn on loopback.
  // ---------------------------------------------------------------------------------------------

  /**
   * Starts {@code turnserver} with {@code use-auth-secret} on 127.0.0.1 and runs
   * {@code turnutils_uclient} against it with credentials minted by {@link TurnCredentials}.
   */
  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  @DisplayName("against a real coturn")
  class AgainstCoturn {

    private static final String REALM = "switchboard.test";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(15);
    private static final Duration LOG_TIMEOUT = Duration.ofSeconds(3);

    private final InetAddress loopback = InetAddress.getLoopbackAddress();
    private Path uclient;
    private Path dir;
    private Path serverLog;
    private Process server;
    private Thread reaper;
    private int port;
    private String secret;
    private int runs;
    private String missing;

    private void requireCoturn() {
      assumeTrue(missing == null, missing);
    }

    @BeforeAll
    void startCoturn() throws Exception {
      Optional<Path> turnserver = onPath("turnserver");
      Optional<Path> client = onPath("turnutils_uclient");
      if (turnserver.isEmpty() || client.isEmpty()) {
        // Each test then skips itself (an assumption here would hide the skips from surefire's counts).
        missing = (turnserver.isEmpty() ? "turnserver" : "turnutils_uclient")
            + " (coturn) is not on PATH; install coturn (apt-get install coturn) to run these tests";
        return;
      }
      uclient = client.get();
      byte[] random = new byte[24];
      new SecureRandom().nextBytes(random);
      secret = HexFormat.of().formatHex(random);
      dir = Files.createTempDirectory("switchboard-coturn-");
      serverLog = dir.resolve("turnserver.log");

      // A port found free can be taken before coturn binds it; try again with another one.
      String lastFailure = "";
      for (int attempt = 1; attempt <= 3; attempt++) {
        port = freeUdpAndTcpPort();
        List<String> cmd = List.of(turnserver.get().toString(),
            "-n",                                  // no configuration file
            "--listening-ip", "127.0.0.1",
            "--relay-ip", "127.0.0.1",
            "--listening-port", Integer.toString(port),
            "--use-auth-secret",
            "--static-auth-secret=" + secret,
            "--realm", REALM,
            "--no-tls", "--no-dtls",
            "--no-rfc5780",                        // no alternate port (port + 1) to collide with
            "--no-cli",
            "--allow-loopback-peers",              // uclient -y relays between two loopback allocations
            "--no-software-attribute",
            "--log-file", "stdout",
            "--simple-log",
            "-v",                                  // logs each request's outcome, per user
            "--pidfile", dir.resolve("turnserver.pid").toString(),
            "--userdb", dir.resolve("turndb").toString());
        System.out.println("coturn: " + String.join(" ", cmd).replace(secret, "<secret>"));
        server = new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(serverLog.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .start();
        if (reaper == null) {
          reaper = new Thread(() -> {
            Process p = server;
            if (p != null) {
              p.destroyForcibly();
            }
          }, "coturn-reaper");
          Runtime.getRuntime().addShutdownHook(reaper);
        }
        if (awaitListening()) {
          return;
        }
        lastFailure = "attempt " + attempt + " on port " + port + " (alive=" + server.isAlive() + "):\n" + tail(serverLog);
        stop(server);
      }
      fail("turnserver did not answer a STUN Binding on UDP and TCP 127.0.0.1 within " + START_TIMEOUT
          + "; last " + lastFailure);
    }

    @AfterAll
    void stopCoturn() throws IOException {
      try {
        if (server != null) {
          stop(server);
        }
      } finally {
        if (reaper != null) {
          try {
            Runtime.getRuntime().removeShutdownHook(reaper);
          } catch (IllegalStateException shuttingDown) {
            // the hook runs anyway
          }
        }
        if (dir != null) {
          try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
          }
        }
      }
    }

    @Test
    @DisplayName("a fresh credential from iceServers gets a relay allocation")
    void freshCredentialAllocates() throws Exception {
      requireCoturn();
      JsonObject turn = mint("alice", System.currentTimeMillis());
      String username = turn.getString("username");
      Run run = uclient(username, turn.getString("credential"));
      assertEquals(0, run.exit, "uclient should succeed with a fresh credential; " + run);
      assertFalse(run.output.contains("Cannot complete Allocation"), run.toString());
      assertTrue(awaitLog("user <" + username + ">: incoming packet ALLOCATE processed, success"),
          "coturn should log a successful ALLOCATE for " + username + "; " + run + "\ncoturn log:\n" + tail(serverLog));
    }

    @Test
    @DisplayName("a credential signed with another secret is refused with 401")
    void wrongSecretRefused() throws Exception {
      requireCoturn();
      Config.Ice other = ice(new JsonArray(), turnUrls(), secret + "-not-it", DAY);
      JsonObject turn = last(new TurnCredentials(other).iceServers("bob-wrong-secret", System.currentTimeMillis()));
      // Same username as a good credential would have, only the signature differs.
      assertNotEquals(mint("bob-wrong-secret", System.currentTimeMillis()).getString("credential"),
          turn.getString("credential"));
      assertRefused(turn.getString("username"), turn.getString("credential"));
    }

    @Test
    @DisplayName("an expired credential is refused with 401")
    void expiredRefused() throws Exception {
      requireCoturn();
      long now = System.currentTimeMillis();
      // Minted two days ago with a 24 h TTL: expired a day ago.
      JsonObject turn = mint("carol-expired", now - Duration.ofDays(2).toMillis());
      long expiry = Long.parseLong(turn.getString("username").split(":", 2)[0]);
      assertTrue(expiry < now / 1000 - 3600, "the credential should be well in the past: " + turn.encode());
      assertRefused(turn.getString("username"), turn.getString("credential"));
    }

    @Test
    @DisplayName("a tampered username (other peer, or a later expiry) is refused with 401")
    void tamperedUsernameRefused() throws Exception {
      requireCoturn();
      JsonObject turn = mint("dave", System.currentTimeMillis());
      String[] parts = turn.getString("username").split(":", 2);
      String credential = turn.getString("credential");
      // Another peer's name under dave's signature.
      assertRefused(parts[0] + ":mallory", credential);
      // dave's credential stretched by a day.
      assertRefused((Long.parseLong(parts[0]) + 86_400) + ":" + parts[1], credential);
    }

    // -- helpers ---------------------------------------------------------------------------------

    private List<String> turnUrls() {
      return List.of("turn:127.0.0.1:" + port + "?transport=udp", "turn:127.0.0.1:" + port + "?transport=tcp");
    }

    /** The TURN entry {@link TurnCredentials} hands {@code peer} at {@code nowMillis}, for this coturn. */
    private JsonObject mint(String peer, long nowMillis) {
      JsonArray stun = new JsonArray().add(new JsonObject().put("urls", "stun:127.0.0.1:" + port));
      JsonArray servers = new TurnCredentials(ice(stun, turnUrls(), secret, DAY)).iceServers(peer, nowMillis);
      assertEquals(2, servers.size(), servers.encode());
      assertEquals(stun.getJsonObject(0), servers.getJsonObject(0));
      JsonObject turn = last(servers);
      assertEquals(new JsonArray(turnUrls()), turn.getJsonArray("urls"));
      return turn;
    }

    private JsonObject last(JsonArray servers) {
      return servers.getJsonObject(servers.size() - 1);
    }

    private void assertRefused(String username, String credential) throws Exception {
      Run run = uclient(username, credential);
      assertNotEquals(0, run.exit, "uclient should fail for " + username + "; " + run);
      assertTrue(run.output.contains("Cannot complete Allocation"), "uclient should fail to allocate; " + run);
      assertTrue(awaitLog("user <" + username + ">: incoming packet message processed, error 401"),
          "coturn should answer 401 to " + username + "; " + run + "\ncoturn log:\n" + tail(serverLog));
      assertFalse(Files.readString(serverLog, StandardCharsets.ISO_8859_1).contains("user <" + username + ">: incoming packet ALLOCATE processed, success"),
          "coturn must not allocate for " + username);
    }

    /** One {@code turnutils_uclient} allocation: one client (-m 1), one message (-n 1), relayed to itself (-y). */
    private Run uclient(String username, String credential) throws Exception {
      List<String> cmd = List.of(uclient.toString(),
          "-p", Integer.toString(port),
          "-u", username,
          "-w", credential,
          "-m", "1",                               // one client
          "-n", "1",                               // one message
          "-y",                                    // client-to-client: relays to the client's own second allocation
          "-c",                                    // no RTCP pair: half the allocations
          "127.0.0.1");
      Path out = dir.resolve("uclient-" + (++runs) + ".log");
      long start = System.nanoTime();
      Process p = new ProcessBuilder(cmd)
          .redirectErrorStream(true)
          .redirectOutput(out.toFile())
          .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
          .start();
      boolean done = p.waitFor(CLIENT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      if (!done) {
        stop(p);
      }
      long millis = (System.nanoTime() - start) / 1_000_000;
      Run run = new Run(String.join(" ", cmd), done ? p.exitValue() : -1, done, millis, Files.readString(out, StandardCharsets.ISO_8859_1));
      System.out.println("uclient (" + millis + " ms, exit " + run.exit + "): " + run.command);
      if (!done) {
        fail("uclient did not finish within " + CLIENT_TIMEOUT + "; " + run);
      }
      return run;
    }

    /** Waits, bounded, until the coturn log has a line containing {@code text}. */
    private boolean awaitLog(String text) throws Exception {
      long deadline = System.nanoTime() + LOG_TIMEOUT.toNanos();
      do {
        if (Files.readString(serverLog, StandardCharsets.ISO_8859_1).contains(text)) {
          return true;
        }
        Thread.sleep(50);
      } while (System.nanoTime() < deadline);
      return false;
    }

    /** True once coturn answers a STUN Binding request on UDP and accepts TCP, both on 127.0.0.1:port. */
    private boolean awaitListening() throws Exception {
      long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
      while (System.nanoTime() < deadline) {
        if (!server.isAlive()) {
          return false;
        }
        if (stunBinding() && tcpAccepts()) {
          return true;
        }
        Thread.sleep(50);
      }
      return false;
    }

    private boolean stunBinding() {
      byte[] tx = new byte[12];
      new SecureRandom().nextBytes(tx);
      ByteBuffer req = ByteBuffer.allocate(20)
          .putShort((short) 0x0001)                // Binding request
          .putShort((short) 0)                     // no attributes
          .putInt(0x2112A442)                      // magic cookie
          .put(tx);
      try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(loopback, 0))) {
        s.setSoTimeout(250);
        s.send(new DatagramPacket(req.array(), 20, new InetSocketAddress(loopback, port)));
        byte[] buf = new byte[1500];
        DatagramPacket resp = new DatagramPacket(buf, buf.length);
        s.receive(resp);
        return resp.getLength() >= 20
            && ByteBuffer.wrap(buf).getShort(0) == (short) 0x0101   // Binding success response
            && Arrays.equals(Arrays.copyOfRange(buf, 8, 20), tx);
      } catch (IOException e) {
        return false;
      }
    }

    private boolean tcpAccepts() {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(loopback, port), 250);
        return true;
      } catch (IOException e) {
        return false;
      }
    }

    private int freeUdpAndTcpPort() throws IOException {
      for (int i = 0; i < 50; i++) {
        try (ServerSocket tcp = new ServerSocket(0, 1, loopback)) {
          int candidate = tcp.getLocalPort();
          try (DatagramSocket udp = new DatagramSocket(new InetSocketAddress(loopback, candidate))) {
            return candidate;
          } catch (IOException taken) {
            // UDP side in use: try another
          }
        }
      }
      throw new IOException("no port free on both UDP and TCP 127.0.0.1");
    }
  }

  // ---------------------------------------------------------------------------------------------

  /** The outcome of one {@code turnutils_uclient} run. */
  private record Run(String command, int exit, boolean finished, long millis, String output) {
    @Override
    public String toString() {
      String shown = output.length() > 2000 ? "..." + output.substring(output.length() - 2000) : output;
      return "`" + command + "` exit=" + exit + " finished=" + finished + " in " + millis + " ms, output:\n" + shown;
    }
  }

  private static Optional<Path> onPath(String name) {
    String path = System.getenv("PATH");
    if (path == null) {
      return Optional.empty();
    }
    List<Path> candidates = new ArrayList<>();
    for (String d : path.split(File.pathSeparator)) {
      if (!d.isEmpty()) {
        candidates.add(Path.of(d, name));
      }
    }
    return candidates.stream().filter(p -> Files.isRegularFile(p) && Files.isExecutable(p)).findFirst();
  }

  /** destroy, then destroyForcibly if it has not ended within 5 s; every wait is bounded. */
  private static void stop(Process p) {
    if (!p.isAlive()) {
      return;
    }
    p.destroy();
    try {
      if (!p.waitFor(5, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        p.waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  private static String tail(Path file) {
    try {
      String s = Files.readString(file, StandardCharsets.ISO_8859_1);
      return s.length() > 3000 ? "..." + s.substring(s.length() - 3000) : s;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
