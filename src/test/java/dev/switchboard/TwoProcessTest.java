package dev.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.registry.LocalRedis;
import dev.switchboard.testing.TestCluster;
import dev.switchboard.testing.TestPeer;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonObject;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Two nodes as two separate JVM processes, started the way an operator starts them. */
class TwoProcessTest {

  @Test
  @DisplayName("peers on two node processes signal each other through one room")
  void twoProcesses() throws Exception {
    String cluster = "proc-" + UUID.randomUUID().toString().substring(0, 8);
    int clusterPort = 42000 + ThreadLocalRandom.current().nextInt(500) * 20;
    List<Process> procs = new ArrayList<>();
    Vertx vertx = Vertx.vertx();
    try (LocalRedis redis = LocalRedis.start()) {
      int[] ports = {TestCluster.freePort(), TestCluster.freePort()};
      for (int i = 0; i < 2; i++) {
        procs.add(startNode(i, ports[i], redis.url(), cluster, clusterPort));
      }
      for (int i = 0; i < 2; i++) {
        awaitHealthy(ports[i], procs.get(i));
      }
      WebSocketClient client = TestPeer.client(vertx);
      try (TestPeer a = TestPeer.join(client, ports[0], "cross", "alice");
           TestPeer b = TestPeer.join(client, ports[1], "cross", "bob")) {
        assertEquals("alice", b.welcome.getJsonArray("peers").getJsonObject(0).getString("peer"));
        assertEquals("bob", a.expect("peer-joined").getString("peer"));
        b.send(new JsonObject().put("type", "offer").put("to", "alice").put("sdp", "from-bob").put("id", 1));
        assertEquals("from-bob", a.expect("offer").getString("sdp"));
        assertEquals(1L, b.expect("ack").getLong("id"));
        a.send(new JsonObject().put("type", "answer").put("to", "bob").put("sdp", "from-alice"));
        JsonObject answer = b.expect("answer");
        assertEquals("alice", answer.getString("from"));
        assertEquals("from-alice", answer.getString("sdp"));
      }
    } finally {
      for (Process p : procs) {
        p.destroy();
      }
      for (Process p : procs) {
        if (!p.waitFor(15, TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
      }
      vertx.close().await();
    }
  }

  private static Process startNode(int i, int port, String redisUrl, String cluster, int clusterPort) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Path log = Files.createTempFile("switchboard-node" + i, ".log");
    ProcessBuilder pb = new ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
        "dev.switchboard.Main",
        "--http-host", "127.0.0.1", "--http-port", Integer.toString(port),
        "--node-id", "proc" + i, "--node-verticles", "1",
        "--redis-url", redisUrl,
        "--cluster-name", cluster, "--cluster-port", Integer.toString(clusterPort),
        "--cluster-members", "127.0.0.1:" + clusterPort);
    pb.redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("SWITCHBOARD_"));
    System.out.println("node process " + i + " logs to " + log);
    return pb.start();
  }

  private static void awaitHealthy(int port, Process p) throws Exception {
    long deadline = System.currentTimeMillis() + 60_000;
    while (System.currentTimeMillis() < deadline) {
      assertTrue(p.isAlive(), "node process exited early");
      try {
        HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + "/health").toURL().openConnection();
        c.setConnectTimeout(500);
        if (c.getResponseCode() == 200) {
          return;
        }
      } catch (java.io.IOException notYet) {
        // not listening yet
      }
      Thread.sleep(200);
    }
    throw new AssertionError("node on port " + port + " did not become healthy");
  }
}
