package dev.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.testing.TestCluster;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The node as an operator starts it: {@code Main} in a process of its own. */
class MainProcessTest {

  private static ProcessBuilder node(String... args) {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-Dlogback.configurationFile=logback.xml", "-cp", System.getProperty("java.class.path"),
        "dev.switchboard.Main"));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().keySet().removeIf(k -> k.startsWith("SWITCHBOARD_"));
    return pb;
  }

  @Test
  @DisplayName("with no Redis configured, a node starts a local Redis itself, says so, and serves")
  void embeddedRedis() throws Exception {
    int port = TestCluster.freePort();
    int clusterPort = 44000 + ThreadLocalRandom.current().nextInt(500) * 20;
    Path log = Files.createTempFile("switchboard-main", ".log");
    Process p = node("--http-host", "127.0.0.1", "--http-port", Integer.toString(port),
        "--cluster-name", "main-" + UUID.randomUUID().toString().substring(0, 8),
        "--cluster-port", Integer.toString(clusterPort), "--cluster-members", "127.0.0.1:" + clusterPort)
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    try {
      long deadline = System.currentTimeMillis() + 60_000;
      int status = 0;
      while (System.currentTimeMillis() < deadline && status != 200) {
        assertTrue(p.isAlive(), () -> "node exited: " + read(log));
        try {
          HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + "/health").toURL()
              .openConnection();
          status = c.getResponseCode();
        } catch (java.io.IOException notYet) {
          Thread.sleep(200);
        }
      }
      assertEquals(200, status);
      // The node logs "node started" once its record is in Redis, just after it serves HTTP.
      long logged = System.currentTimeMillis() + 10_000;
      while (!read(log).contains("node started") && System.currentTimeMillis() < logged) {
        Thread.sleep(50);
      }
      String out = read(log);
      assertTrue(out.contains("started a local Redis"), out);
      assertTrue(out.contains("node started"), out);
    } finally {
      p.destroy();
      assertTrue(p.waitFor(30, TimeUnit.SECONDS), "node stops on SIGTERM");
    }
    String redisPort = read(log).replaceAll("(?s).*started a local Redis.*?port=\"(\\d+)\".*", "$1");
    assertTrue(redisPort.matches("\\d+"), redisPort);
    assertTrue(!dev.switchboard.registry.LocalRedis.answersPing(Integer.parseInt(redisPort)),
        "the local Redis is stopped with the node");
  }

  @Test
  @DisplayName("an invalid setting stops start-up with a message that names it")
  void invalidConfiguration() throws Exception {
    Process p = node("--http-port", "not-a-port").redirectErrorStream(true).start();
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(2, p.exitValue(), out);
    assertTrue(out.contains("http.port") && out.contains("--http-port") && out.contains("not-a-port"), out);

    ProcessBuilder env = node();
    env.environment().put("SWITCHBOARD_LIMITS_JOIN_TIMEOUT", "soon");
    Process q = env.redirectErrorStream(true).start();
    assertTrue(q.waitFor(30, TimeUnit.SECONDS));
    String out2 = new String(q.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(2, q.exitValue(), out2);
    assertTrue(out2.contains("limits.join-timeout") && out2.contains("SWITCHBOARD_LIMITS_JOIN_TIMEOUT"), out2);
  }

  @Test
  @DisplayName("--help prints the usage of the node with every setting, or of the command it follows, and exits 0")
  void help() throws Exception {
    Process p = node("--help").redirectErrorStream(true).start();
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.exitValue(), out);
    for (dev.switchboard.config.Setting s : dev.switchboard.config.Settings.ALL) {
      assertTrue(out.contains(s.flag()) && out.contains(s.envName()), s.name() + " is missing from:\n" + out);
    }
    Process q = node("bench", "relay", "--help").redirectErrorStream(true).start();
    assertTrue(q.waitFor(30, TimeUnit.SECONDS));
    String bench = new String(q.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, q.exitValue(), bench);
    assertTrue(bench.contains("usage: switchboard bench") && !bench.contains("needs a value"), bench);
  }

  private static String read(Path log) {
    try {
      return Files.readString(log);
    } catch (java.io.IOException e) {
      return e.toString();
    }
  }
}
