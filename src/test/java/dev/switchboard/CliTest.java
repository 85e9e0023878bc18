package dev.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.cli.SwitchboardCli;
import dev.switchboard.config.Setting;
import dev.switchboard.config.Settings;
import dev.switchboard.testing.TestCluster;
import dev.switchboard.testing.TestPeer;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The terminal commands, against a real node and Redis. */
class CliTest {

  record Run(int code, String out, String err) {
  }

  static Run run(Map<String, String> env, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = SwitchboardCli.execute(args, env, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), config -> {
          throw new AssertionError("no command here runs a node");
        });
    return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  @DisplayName("nodes, rooms and rooms <room> print aligned tables read from Redis")
  void tables() throws Exception {
    try (TestCluster cluster = TestCluster.start(1, Map.of())) {
      String url = cluster.redisServer().url();
      TestPeer a = cluster.join(0, "cli-room", "alice");
      TestPeer b = cluster.join(0, "cli-room", "bob");
      a.send(new JsonObject().put("type", "state").put("audio", false));
      b.expect("peer-state");
      Thread.sleep(200);

      Run nodes = run(Map.of(), "nodes", "--redis-url", url);
      assertEquals(0, nodes.code(), nodes.err());
      List<String> lines = nodes.out().lines().toList();
      assertTrue(lines.get(0).startsWith("NODE") && lines.get(0).contains("CONNECTIONS"), nodes.out());
      assertTrue(lines.get(1).startsWith(cluster.node(0).nodeId()), nodes.out());
      assertEquals(lines.get(0).indexOf("STATE"), lines.get(1).indexOf("active"), "columns are aligned:\n" + nodes.out());
      assertTrue(lines.get(1).contains(" 2 "), "two connections:\n" + nodes.out());

      Run rooms = run(Map.of("SWITCHBOARD_REDIS_URL", url), "rooms");
      assertEquals(0, rooms.code(), rooms.err());
      assertTrue(rooms.out().lines().anyMatch(l -> l.matches("cli-room\\s+2")), rooms.out());

      Run room = run(Map.of(), "rooms", "cli-room", "--redis-url", url);
      assertEquals(0, room.code(), room.err());
      List<String> peers = new ArrayList<>(room.out().lines().toList());
      assertTrue(peers.get(0).contains("peers=2"), room.out());
      assertTrue(peers.stream().anyMatch(l -> l.startsWith("alice") && l.contains("false")), room.out());
      assertTrue(peers.stream().anyMatch(l -> l.startsWith("bob") && l.contains(cluster.node(0).nodeId())), room.out());

      Run missing = run(Map.of(), "rooms", "no-such-room", "--redis-url", url);
      assertEquals(1, missing.code());
      assertTrue(missing.err().contains("no room no-such-room"), missing.err());
    }
  }

  @Test
  @DisplayName("without a Redis URL the commands say how to give one")
  void needsRedisUrl() {
    Run r = run(Map.of(), "nodes");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--redis-url") && r.err().contains("SWITCHBOARD_REDIS_URL"), r.err());
  }
  @Test
  @DisplayName("--help, -h and help work for the node and every command, exit 0, and list every setting with its default and environment name")
  void help() {
    for (String command : List.of("", "serve", "nodes", "rooms", "kick", "token", "bench")) {
      for (String flag : List.of("--help", "-h")) {
        Run r = command.isEmpty() ? run(Map.of(), flag) : run(Map.of(), command, flag);
        assertEquals(0, r.code(), command + " " + flag + ": " + r.err());
        assertTrue(r.out().startsWith("Usage: switchboard" + (command.isEmpty() ? "" : " " + command)), r.out());
        if (!command.equals("bench")) {
          for (Setting s : Settings.ALL) {
            assertTrue(r.out().contains(s.flag()) && r.out().contains(s.envName())
                && r.out().contains("default: " + (s.defaultValue().isEmpty() ? "(empty)" : s.defaultValue())),
                command + " --help lacks " + s.name() + ":\n" + r.out());
          }
        }
      }
    }
    Run helpNodes = run(Map.of(), "help", "nodes");
    assertEquals(0, helpNodes.code());
    assertTrue(helpNodes.out().contains("--watch"), helpNodes.out());
    Run version = run(Map.of(), "--version");
    assertEquals(0, version.code());
    assertTrue(version.out().startsWith("switchboard "), version.out());
    assertTrue(run(Map.of(), "bench", "--help").out().contains("join-storm"), "bench lists its scenarios");
  }

  @Test
  @DisplayName("a typo exits 2 with a message naming it and pointing at --help; so does a bad value")
  void typos() {
    Run command = run(Map.of(), "nodez");
    assertEquals(2, command.code());
    assertTrue(command.err().contains("'nodez'") && command.err().contains("switchboard nodes")
        && command.err().contains("'switchboard --help'"), command.err());
    Run option = run(Map.of(), "rooms", "--redis-ur", "redis://127.0.0.1:1");
    assertEquals(2, option.code());
    assertTrue(option.err().contains("'--redis-ur'") && option.err().contains("--redis-url")
        && option.err().contains("'switchboard rooms --help'"), option.err());
    Run value = run(Map.of(), "--http-port", "eighty");
    assertEquals(2, value.code(), "a bad setting stops before any node starts");
    assertTrue(value.err().contains("http.port") && value.err().contains("eighty"), value.err());
    Run twice = run(Map.of(), "rooms", "--redis-url", "not a url", "--redis-url", "redis://127.0.0.1:1", "r");
    assertEquals(1, twice.code(), "a setting given twice is no typo: the later one wins (no Redis there)");
    Run missing = run(Map.of(), "kick", "room-only");
    assertEquals(2, missing.code());
    assertTrue(missing.err().contains("PEER"), missing.err());
  }

  @Test
  @DisplayName("kick removes a peer through a node's admin API; an unknown peer exits 1 with the node's reason")
  void kick() {
    try (TestCluster cluster = TestCluster.start(1, Map.of("admin-key", "cli-kick-key"))) {
      String node = "http://127.0.0.1:" + cluster.port(0);
      TestPeer a = cluster.join(0, "cli-kick", "alice");
      TestPeer b = cluster.join(0, "cli-kick", "bob");
      a.expectPast("peer-joined");
      Run r = run(Map.of("SWITCHBOARD_ADMIN_KEY", "cli-kick-key"), "kick", "cli-kick", "bob", "--node", node);
      assertEquals(0, r.code(), r.err());
      assertEquals(4406, b.awaitClose());
      assertEquals("kicked", a.expectPast("peer-left").getString("reason"));
      Run again = run(Map.of(), "kick", "cli-kick", "bob", "--node", node, "--admin-key", "cli-kick-key");
      assertEquals(1, again.code());
      assertTrue(again.err().contains("404") && again.err().contains("no peer bob"), again.err());
      Run noKey = run(Map.of(), "kick", "cli-kick", "alice", "--node", node);
      assertEquals(2, noKey.code());
      assertTrue(noKey.err().contains("SWITCHBOARD_ADMIN_KEY"), noKey.err());
    }
  }

  @Test
  @DisplayName("nodes --watch under a pseudo-terminal redraws the table in place every second and exits 0 on Ctrl-C")
  void watch() throws Exception {
    try (TestCluster cluster = TestCluster.start(1, Map.of())) {
      String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      // exec: no shell may stay between the terminal and the JVM, for a shell waiting on its child
      // can die of the same Ctrl-C (exit 130) that the JVM handles.
      String command = String.join(" ", "exec", javaBin, "-cp", System.getProperty("java.class.path"), "dev.switchboard.Main",
          "nodes", "--watch", "--redis-url", cluster.redisServer().url());
      // script(1) runs it on a pseudo-terminal; a 0x03 written to script's input is the terminal's Ctrl-C.
      ProcessBuilder pb = new ProcessBuilder("script", "-qfec", command, "/dev/null").redirectErrorStream(true);
      pb.environment().put("SHELL", "/bin/sh"); // script(1) runs the command with $SHELL -c
      Process p = pb.start();
      StringBuilder seen = new StringBuilder();
      Thread reader = new Thread(() -> {
        try {
          p.getInputStream().transferTo(new java.io.OutputStream() {
            @Override
            public void write(int b) {
              synchronized (seen) {
                seen.append((char) b);
              }
            }
          });
        } catch (java.io.IOException ignored) {
          // the process ended
        }
      });
      reader.start();
      long deadline = System.currentTimeMillis() + 20_000;
      while (frames(seen) < 3 && System.currentTimeMillis() < deadline) {
        Thread.sleep(100);
      }
      assertTrue(frames(seen) >= 3, "three frames within 20 s:\n" + seen);
      p.getOutputStream().write(3);
      p.getOutputStream().flush();
      assertTrue(p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS), "exits on Ctrl-C:\n" + seen);
      reader.join(2000);
      String out;
      synchronized (seen) {
        out = seen.toString();
      }
      assertEquals(0, p.exitValue(), out);
      assertTrue(out.contains(cluster.node(0).nodeId()) && out.contains("CONNECTIONS"), out);
      assertTrue(out.contains("\033[H") && !out.contains("\033[2J\033[H\033[2J"),
          "each frame starts at the top, over the last one, without clearing the screen between frames");
      assertTrue(out.contains("\033[?25h"), "the cursor is shown again");
    }
  }

  private static int frames(StringBuilder seen) {
    synchronized (seen) {
      return seen.toString().split("switchboard nodes - every 1s", -1).length - 1;
    }
  }
}
