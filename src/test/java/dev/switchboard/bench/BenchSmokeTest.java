package dev.switchboard.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.testing.TestCluster;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * A short run of every bench scenario against a real two-node cluster and a real Redis: the
 * tool works and its figures are sane (what was offered arrives, counts add up, nothing is lost).
 * How fast anything is, is for docs/benchmarks.md, never asserted here.
 */
class BenchSmokeTest {

  private static final long SECOND = 1_000_000_000L;

  private static TestCluster cluster;
  private static RedisProbe redis;
  private static Bench bench;
  private static List<String> nodes;

  @BeforeAll
  static void start() {
    cluster = TestCluster.start(2, Map.of("limits-rate", "100000", "limits-rate-burst", "100000"));
    nodes = List.of(url(0), url(1));
    redis = new RedisProbe(cluster.redisServer().url());
    bench = new Bench(2, redis, new Processes());
    redis.measureBackground(3);
  }

  @AfterAll
  static void stop() {
    bench.close();
    redis.close();
    cluster.close();
  }

  private static String url(int node) {
    return "ws://127.0.0.1:" + cluster.port(node) + "/ws";
  }

  @Test
  @DisplayName("relay across nodes delivers what was offered, in order, timed, with no Redis command per message")
  void relayCrossNode() {
    Result r = Streams.run(bench, new Streams.Spec("relay", nodes, 4, 2, false, true, 400, 100, SECOND / 2, SECOND));
    assertEquals(0, r.number("lost"), r.json().encodePrettily());
    assertEquals(0, r.number("reordered"));
    assertEquals(0, r.errorCount(), r.json().encodePrettily());
    double delivered = r.number("deliveredPerSecond");
    assertTrue(delivered > 300 && delivered < 500, "400/s offered, " + delivered + "/s delivered");
    long timed = r.json().getJsonObject("latency").getLong("count");
    assertTrue(timed >= 380 && timed <= 420, "one latency per message sent in the 1 s window: " + timed);
    double p50 = r.latencyMs("latency", "p50");
    assertTrue(p50 > 0 && p50 <= r.latencyMs("latency", "p99") && r.latencyMs("latency", "p99") <= r.latencyMs("latency", "max"));
    assertEquals(8, r.json().getJsonObject("join").getLong("count"), "every peer's join was timed");
    // The nodes' heartbeats land in the window too (a few commands a second, unevenly): a relay
    // that cost even one command would put this at 1 or more.
    assertTrue(r.redisPer("perMessage") < 0.1, r.json().getJsonObject("redis").encode());
  }

  @Test
  @DisplayName("relay on one node and the in-process baseline both deliver everything; the command prints the ratio")
  void relaySameNodeAndBaseline() throws Exception {
    Path json = Files.createTempFile("bench", ".json");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int code = BenchCommand.run(List.of("bench", "relay", "--nodes", url(0) + "," + url(1), "--same", "--baseline",
        "--pairs", "3", "--rate", "300", "--warmup", "500ms", "--duration", "1s", "--json", json.toString()),
        new PrintStream(out, true, StandardCharsets.UTF_8), System.err);
    String printed = out.toString(StandardCharsets.UTF_8);
    assertEquals(0, code, printed);
    assertTrue(printed.contains("relay same-node ÷ baseline, deliveredPerSecond: "), printed);
    JsonObject doc = new JsonObject(Files.readString(json));
    assertEquals(2, doc.getJsonArray("results").size());
    for (int i = 0; i < 2; i++) {
      JsonObject r = doc.getJsonArray("results").getJsonObject(i);
      assertEquals(0L, r.getJsonObject("figures").getLong("lost"), r.encodePrettily());
      assertTrue(r.getJsonObject("figures").getLong("deliveredPerSecond") > 200, r.encodePrettily());
    }
    assertEquals("baseline relay", doc.getJsonArray("results").getJsonObject(1).getString("label"));
    assertTrue(doc.getJsonObject("machine").getInteger("cores") > 0);
  }

  @Test
  @DisplayName("fanout delivers each room-wide message to every other member")
  void fanout() {
    Result r = Streams.run(bench, new Streams.Spec("fanout", nodes, 2, 4, true, true, 100, 50, SECOND / 2, SECOND));
    assertEquals(0, r.number("lost"), r.json().encodePrettily());
    assertEquals(300, r.number("offeredPerSecond"), "100 sends/s, 3 receivers each");
    double delivered = r.number("deliveredPerSecond");
    assertTrue(delivered > 220 && delivered < 380, delivered + "/s delivered");
  }

  @Test
  @DisplayName("join-storm joins, reaches the anchor across nodes after every welcome, and loses nothing")
  void joinStorm() {
    Result r = JoinStorm.run(bench, new JoinStorm.Spec(nodes, 4, SECOND / 2, SECOND));
    assertEquals(0, r.number("lost"), r.json().encodePrettily());
    assertEquals(0, r.number("orderViolations"));
    assertEquals(0, r.errorCount(), r.json().encodePrettily());
    assertTrue(r.number("joinsPerSecond") > 0);
    long joins = (long) r.number("joins");
    assertEquals(joins, r.json().getJsonObject("join").getLong("count"));
    assertEquals(joins, r.json().getJsonObject("reachable").getLong("count"), "every welcome was followed by an answer");
    assertTrue(r.redisPer("perJoin") > 0, "a join writes the room to Redis");
  }

  @Test
  @DisplayName("idle holds joined peers and reads the node's heap and resident memory per peer")
  void idle() {
    Result r = Idle.run(bench, new Idle.Spec(url(0), 60, 10, SECOND / 2, ProcessHandle.current().pid()));
    assertEquals(60, r.number("joined"), r.json().encodePrettily());
    assertEquals(0, r.number("closedWhileIdle"));
    assertEquals(60, r.number("nodePeersAfter") - r.number("nodePeersBefore"));
    assertTrue(r.number("rssBytesAfter") > 0 && r.number("heapBytesAfter") > 0, r.json().encodePrettily());
    assertNotNull(r.json().getJsonObject("figures").getValue("heapBytesPerPeer"));
  }

  @Test
  @DisplayName("baseline-server runs the bare relay as its own process, whose CPU per message a relay run reads")
  void baselineServerProcess() throws Exception {
    Process server = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), "dev.switchboard.Main", "bench", "baseline-server")
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    try {
      String line = new java.io.BufferedReader(new java.io.InputStreamReader(server.getInputStream(),
          StandardCharsets.UTF_8)).readLine();
      assertNotNull(line, "baseline-server printed nothing");
      String[] parts = line.split(" ");
      assertTrue(parts[0].startsWith("ws://127.0.0.1:") && parts[1].equals("pid"), line);
      assertEquals(server.pid(), Long.parseLong(parts[2]), line);
      Path json = Files.createTempFile("bench", ".json");
      int code = BenchCommand.run(List.of("bench", "relay", "--nodes", parts[0], "--same", "--node-pids", parts[2],
          "--pairs", "3", "--rate", "300", "--warmup", "500ms", "--duration", "1s", "--json", json.toString()),
          new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), System.err);
      assertEquals(0, code);
      JsonObject figures = new JsonObject(Files.readString(json)).getJsonArray("results").getJsonObject(0)
          .getJsonObject("figures");
      assertEquals(0L, figures.getLong("lost"), figures.encode());
      assertTrue(figures.getDouble("nodeCpuMicrosPerMessage") > 0, figures.encode());
    } finally {
      server.destroy();
      assertTrue(server.waitFor(20, java.util.concurrent.TimeUnit.SECONDS), "baseline-server stops on SIGTERM");
    }
  }
}
