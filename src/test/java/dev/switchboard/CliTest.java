package dev.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.ops.Cli;
import dev.switchboard.testing.TestCluster;
import dev.switchboard.testing.TestPeer;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
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
    int code = Cli.run(List.of(args), env, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
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
}
