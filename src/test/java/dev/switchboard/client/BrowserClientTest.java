package dev.switchboard.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.switchboard.registry.LocalRedis;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The browser client's own test suites, run as part of {@code mvn verify}: its unit tests under
 * Node's test runner, and the end-to-end tests that drive Debian's Chromium against a real
 * 2-node cluster and a real Redis inside a network namespace with only {@code lo}
 * (client/e2e/). Outside CI a missing tool skips the test and says which; in CI
 * ({@code CI=true}) it fails, because .ci/run installs them all.
 */
class BrowserClientTest {

  private static final Path CLIENT = Path.of("client").toAbsolutePath();
  private static final Path OUT = Path.of("target", "e2e").toAbsolutePath();
  private static final boolean CI = "true".equals(System.getenv("CI"));
  private static final byte[] PNG = {(byte) 0x89, 'P', 'N', 'G'};

  @Test
  @DisplayName("client unit tests (protocol, negotiation, reconnect) pass under node --test")
  void unitTests() throws Exception {
    String node = require("node", "Node.js 18+");
    // The files by name: Node 18 to 22 agree on those, not on a directory argument.
    List<String> cmd = new java.util.ArrayList<>(List.of(node, "--test"));
    try (var files = Files.list(CLIENT.resolve("test"))) {
      files.map(f -> "test/" + f.getFileName()).filter(f -> f.endsWith(".test.js")).sorted().forEach(cmd::add);
    }
    Result r = run(cmd, Map.of(), Duration.ofMinutes(3), "client-unit.log");
    assertEquals(0, r.exit, "node --test failed:\n" + r.tail());
    java.util.regex.Matcher tests = java.util.regex.Pattern.compile("(?m)^\\S* ?tests (\\d+)$").matcher(r.output);
    assertTrue(tests.find() && Integer.parseInt(tests.group(1)) >= 30, "expected the client's unit tests:\n" + r.tail());
    assertTrue(r.output.contains("fail 0"), r.tail());
  }

  @Test
  @DisplayName("headless Chromium: 4 demo pages on 2 nodes connect, decode, mute, leave, resume after a drop and through a rolling restart; pages publish into a real Janus and others decode it (a broadcast to 4 viewers, a 4-person meeting, over 2 nodes)")
  void browserEndToEnd() throws Exception {
    require("node", "Node.js 18+");
    require("unshare", "util-linux");
    require("ip", "iproute2");
    require("janus", "janus");
    String chromium = System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium");
    if (!Files.isExecutable(Path.of(chromium))) {
      missing("Chromium (" + chromium + ")", "chromium");
    }
    installPackages();
    Files.createDirectories(OUT);
    Files.deleteIfExists(OUT.resolve("four-tiles.png"));
    Map<String, String> env = Map.of(
        "SWITCHBOARD_E2E_JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "SWITCHBOARD_E2E_CLASSPATH", System.getProperty("java.class.path"),
        "REDIS_SERVER", LocalRedis.findBinary(),
        "CHROMIUM", chromium,
        "E2E_OUT", OUT.toString());
    Result r = run(List.of("sh", "e2e/run-in-netns.sh"), env, Duration.ofMinutes(6), "e2e-run.log");
    assertEquals(0, r.exit, "the browser tests failed (logs in " + OUT + "):\n" + r.tail());
    assertTrue(r.output.contains("pass 10") && r.output.contains("fail 0"), "expected all ten scenarios:\n" + r.tail());
    Path shot = OUT.resolve("four-tiles.png");
    assertTrue(Files.size(shot) > 10_000, "screenshot too small: " + shot);
    try (InputStream in = Files.newInputStream(shot)) {
      assertArrayEquals(PNG, in.readNBytes(4), "not a PNG: " + shot);
    }
  }

  /** playwright-core (the only package) from the npm registry, pinned by package-lock.json. */
  private static void installPackages() throws Exception {
    if (Files.isDirectory(CLIENT.resolve("node_modules/playwright-core"))) {
      return;
    }
    String npm = require("npm", "npm");
    Result r = run(List.of(npm, "ci", "--no-audit", "--no-fund", "--prefer-offline"), Map.of(),
        Duration.ofMinutes(5), "npm-ci.log");
    assertEquals(0, r.exit, "npm ci failed:\n" + r.tail());
  }

  private static String require(String tool, String what) {
    String path = System.getenv("PATH");
    for (String dir : (path == null ? "" : path).split(File.pathSeparator)) {
      Path candidate = Path.of(dir, tool);
      if (!dir.isEmpty() && Files.isExecutable(candidate)) {
        return candidate.toString();
      }
    }
    for (String dir : List.of("/usr/sbin", "/sbin")) { // ip lives here, often off a user's PATH
      Path candidate = Path.of(dir, tool);
      if (Files.isExecutable(candidate)) {
        return candidate.toString();
      }
    }
    missing(tool + " (" + what + ")", what);
    return null;
  }

  private static void missing(String tool, String pkg) {
    String message = tool + " is not installed; .ci/run installs it (apt-get install " + pkg + ")";
    if (CI) {
      fail(message);
    }
    Assumptions.abort(message);
  }

  private record Result(int exit, String output) {
    String tail() {
      String[] lines = output.split("\n");
      return String.join("\n", Arrays.copyOfRange(lines, Math.max(0, lines.length - 80), lines.length));
    }
  }

  /** Runs a command in client/ with a deadline; its output goes to target/e2e/{log} too. */
  private static Result run(List<String> cmd, Map<String, String> env, Duration limit, String log)
      throws IOException, InterruptedException {
    Files.createDirectories(OUT);
    Path file = OUT.resolve(log);
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(CLIENT.toFile()).redirectErrorStream(true)
        .redirectOutput(file.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    pb.environment().putAll(env);
    Process p = pb.start();
    if (!p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly().waitFor();
      return new Result(-1, Files.readString(file) + "\n(killed after " + limit + ")");
    }
    return new Result(p.exitValue(), Files.readString(file));
  }
}
