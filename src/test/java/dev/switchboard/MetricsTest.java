package dev.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.testing.PrometheusScrape;
import dev.switchboard.testing.TestCluster;
import dev.switchboard.testing.TestPeer;
import dev.switchboard.testing.Waits;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * {@code /metrics} after a scripted session on two nodes: joins, relays on one node and across
 * nodes, a room-wide message, a refusal, a leave and a Redis outage, each counted where it
 * happened, the histograms filled, Vert.x's and the JVM's metrics there too; every line parses as
 * the Prometheus text format. And the Grafana dashboard in the repository asks only for metrics a
 * node exports.
 */
class MetricsTest {

  /** Node 0's and node 1's metrics after the session, and node 0's once Redis failed it a join. */
  static PrometheusScrape n0;
  static PrometheusScrape n1;
  static PrometheusScrape afterOutage;

  private static PrometheusScrape scrape(TestCluster cluster, int node) {
    return PrometheusScrape.parse(cluster.http(node, "GET", "/metrics", null, null).body());
  }

  /**
   * The session: alice and bob on node 0, carol on node 1; alice sends an offer to bob (same node),
   * an offer and a candidate to carol (across nodes) and a room-wide message; bob sends a frame
   * that is no JSON; carol leaves; then Redis dies and a join fails.
   */
  @BeforeAll
  static void session() {
    try (TestCluster cluster = TestCluster.start(2, Map.of())) {
      TestPeer alice = cluster.join(0, "m", "alice");
      TestPeer bob = cluster.join(0, "m", "bob");
      TestPeer carol = cluster.join(1, "m", "carol");
      alice.expectPast("peer-joined");
      alice.expectPast("peer-joined");
      bob.expectPast("peer-joined");
      alice.send(new JsonObject().put("type", "offer").put("to", "bob").put("sdp", "v=0").put("id", 1));
      assertEquals(1, alice.expectPast("ack").getInteger("id"));
      alice.send(new JsonObject().put("type", "offer").put("to", "carol").put("sdp", "v=0").put("id", 2));
      assertEquals(2, alice.expectPast("ack").getInteger("id"));
      alice.send(new JsonObject().put("type", "candidate").put("to", "carol").putNull("candidate").put("id", 3));
      assertEquals(3, alice.expectPast("ack").getInteger("id"));
      alice.send(new JsonObject().put("type", "message").put("data", "hi all").put("id", 4));
      assertEquals(4, alice.expectPast("ack").getInteger("id"));
      bob.expectPast("offer");
      bob.expectPast("message");
      carol.expectPast("offer");
      carol.expectPast("candidate");
      carol.expectPast("message");
      bob.sendRaw("{not json");
      assertEquals("bad-request", bob.expectPast("error").getString("code"));
      carol.send(new JsonObject().put("type", "leave"));
      carol.awaitClose();
      alice.expectPast("peer-left");
      n0 = scrape(cluster, 0);
      n1 = scrape(cluster, 1);

      cluster.killRedis();
      TestPeer dave = cluster.connect(0);
      dave.send(new JsonObject().put("type", "join").put("room", "m").put("peer", "dave"));
      assertEquals("unavailable", dave.expectPast("error").getString("code"));
      long deadline = System.currentTimeMillis() + 5000;
      afterOutage = scrape(cluster, 0);
      while (afterOutage.value("switchboard_redis_errors_total", Map.of("command", "join")) < 1
          && System.currentTimeMillis() < deadline) {
        Waits.sleep(100);
        afterOutage = scrape(cluster, 0);
      }
      cluster.startRedis();
    }
  }

  @Test
  @DisplayName("a scripted session is counted where it happened; histograms are filled; every line parses")
  void scriptedSession() {
    assertEquals(2.0, n0.value("switchboard_joins_total"));
    assertEquals(1.0, n1.value("switchboard_joins_total"));
    assertEquals(2.0, n0.value("switchboard_join_seconds_count"), "one join latency per join");
    assertTrue(n0.value("switchboard_join_seconds_sum") > 0);
    assertEquals("histogram", n0.type("switchboard_join_seconds"));
    assertEquals(1.0, n0.value("switchboard_relays_total", Map.of("type", "offer", "path", "local")));
    assertEquals(1.0, n0.value("switchboard_relays_total", Map.of("type", "offer", "path", "remote")));
    assertEquals(1.0, n0.value("switchboard_relays_total", Map.of("type", "candidate", "path", "remote")));
    assertEquals(3.0, n0.value("switchboard_relays_total"));
    assertEquals(0.0, n1.value("switchboard_relays_total"));
    // Latency where the relays were written to their sockets: bob's on node 0, carol's on node 1.
    assertEquals(1.0, n0.value("switchboard_relay_seconds_count", Map.of("path", "local")));
    assertEquals(2.0, n1.value("switchboard_relay_seconds_count", Map.of("path", "remote")));
    assertEquals(0.0, n1.value("switchboard_relay_seconds_count", Map.of("path", "local")));
    assertTrue(n1.value("switchboard_relay_seconds_sum", Map.of("path", "remote")) > 0);
    assertEquals("histogram", n0.type("switchboard_relay_seconds"));
    assertEquals(1.0, n0.value("switchboard_room_messages_total"));
    assertEquals(2.0, n0.value("switchboard_room_message_deliveries_total"), "alice's and bob's sessions");
    assertEquals(1.0, n1.value("switchboard_room_message_deliveries_total"), "carol's");
    assertEquals(1.0, n0.value("switchboard_refusals_total", Map.of("reason", "bad_message")));
    assertEquals(1.0, n1.value("switchboard_leaves_total", Map.of("reason", "left")));
    assertTrue(n0.value("switchboard_redis_command_seconds_count", Map.of("command", "join")) >= 2,
        "each join's script is timed");
    assertEquals("histogram", n0.type("switchboard_redis_command_seconds"));
    assertEquals(2.0, n0.value("switchboard_connections"), "alice's and bob's sockets");
    assertTrue(n0.value("vertx_http_server_requests_total") >= 1, "Vert.x's own HTTP metrics");
    assertTrue(n0.value("jvm_memory_used_bytes") > 0, "the JVM's");
    assertTrue(n0.value("jvm_threads_live_threads") > 0);
    assertTrue(afterOutage.value("switchboard_redis_errors_total", Map.of("command", "join")) >= 1,
        "a join Redis did not answer is a Redis error of the join script");
  }

  @Test
  @DisplayName("every query of the Grafana dashboard names metrics a node exports")
  void dashboardQueriesExist() throws IOException {
    Exported exported = new Exported(n0, n1, afterOutage); // what any node exported at some point
    JsonObject dashboard = new JsonObject(Files.readString(Path.of("k8s/grafana-dashboard.json")));
    List<String> queries = new ArrayList<>();
    for (Object p : dashboard.getJsonArray("panels", new JsonArray())) {
      for (Object t : ((JsonObject) p).getJsonArray("targets", new JsonArray())) {
        queries.add(((JsonObject) t).getString("expr"));
      }
    }
    assertTrue(queries.size() >= 8, "the dashboard has its panels: " + queries);
    Pattern metric = Pattern.compile("\\b((?:switchboard|vertx|jvm|process|system)_[a-z0-9_]+)");
    for (String q : queries) {
      Matcher m = metric.matcher(q);
      assertTrue(m.find(), "a query without a metric of the node: " + q);
      m.reset();
      while (m.find()) {
        assertTrue(exported.has(m.group(1)) || exported.has(m.group(1).replaceAll("_bucket$", "_count")),
            m.group(1) + " (in " + q + ") is not exported");
      }
    }
  }

  @Test
  @DisplayName("metrics.enabled=false: no /metrics (404 metrics-off), and the node serves as ever")
  void metricsOff() {
    try (TestCluster cluster = TestCluster.start(1, Map.of("metrics-enabled", "false"))) {
      var r = cluster.http(0, "GET", "/metrics", null, null);
      assertEquals(404, r.statusCode());
      assertEquals("metrics-off", new JsonObject(r.body()).getString("error"));
      TestPeer a = cluster.join(0, "off", "a");
      TestPeer b = cluster.join(0, "off", "b");
      a.send(new JsonObject().put("type", "offer").put("to", "b").put("sdp", "v=0").put("id", 1));
      assertEquals(1, a.expectPast("ack").getInteger("id"));
      assertEquals("v=0", b.expectPast("offer").getString("sdp"));
    }
  }

  /** The sample names the scrapes have. */
  private record Exported(java.util.Set<String> names) {
    Exported(PrometheusScrape... scrapes) {
      this(new java.util.HashSet<>(java.util.Arrays.stream(scrapes).flatMap(s -> s.samples().stream())
          .map(PrometheusScrape.Sample::name).toList()));
    }

    boolean has(String name) {
      return names.contains(name);
    }
  }
}
