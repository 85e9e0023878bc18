package dev.switchboard.testing;

import dev.switchboard.Node;
import dev.switchboard.config.Config;
import dev.switchboard.config.ConfigLoader;
import dev.switchboard.registry.LocalRedis;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A real cluster for tests: a real Redis process and N clustered nodes (Hazelcast on 127.0.0.1)
 * in this JVM, under a cluster name of their own so parallel or leftover nodes never mix in.
 */
public final class TestCluster implements AutoCloseable {

  private LocalRedis redisServer;
  private final List<Node> nodes = new ArrayList<>();
  private final List<Node> crashed = new ArrayList<>();
  private final Vertx clientVertx = Vertx.vertx();
  private final WebSocketClient client = TestPeer.client(clientVertx);
  private final Redis redis;
  private final HttpClient http = HttpClient.newHttpClient();
  private final String clusterName = "test-" + UUID.randomUUID().toString().substring(0, 8);
  private final int clusterPort = 20000 + ThreadLocalRandom.current().nextInt(2000) * 20;

  private TestCluster(LocalRedis redisServer) {
    this.redisServer = redisServer;
    this.redis = Redis.createClient(clientVertx, redisServer.url());
  }

  /**
   * Every test client connects from 127.0.0.1: per-address limits sized for the internet would
   * refuse the tests' own crowds. Tests of those limits set them again (later flags win).
   */
  public static final List<String> LOOPBACK_CLIENTS = List.of(
      "--limits-ip-connections", "1000000", "--limits-ip-connect-rate", "1000000",
      "--limits-ip-connect-burst", "1000000");

  /**
   * Test nodes end a peer whose socket closes at once, as a node with resume turned off does:
   * most tests are about something else, and would otherwise wait out a resume window for each
   * {@code peer-left}. Tests of resume set {@code limits-resume-window} again (later flags win).
   */
  public static final List<String> NO_RESUME = List.of("--limits-resume-window", "0");

  /**
   * Settings for failure tests: the given heartbeat and TTL, a 2 s Redis timeout, and a rate
   * limit out of the way of the tests' bursts.
   */
  public static Map<String, String> failureSettings(String heartbeat, String ttl) {
    return Map.of("limits-rate", "100000", "limits-rate-burst", "100000", "redis-timeout", "2s",
        "node-heartbeat", heartbeat, "node-heartbeat-ttl", ttl);
  }

  /** Starts Redis and {@code size} nodes, each with these extra settings ({@code --name value}). */
  public static TestCluster start(int size, Map<String, String> settings) {
    LocalRedis redis;
    try {
      redis = LocalRedis.start();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    TestCluster cluster = new TestCluster(redis);
    try {
      for (int i = 0; i < size; i++) {
        cluster.addNode(settings);
      }
    } catch (RuntimeException e) {
      cluster.close();
      throw e;
    }
    return cluster;
  }

  /** Starts one more node in the cluster and returns it. */
  public Node addNode(Map<String, String> settings) {
    List<String> args = new ArrayList<>(List.of(
        "--http-host", "127.0.0.1",
        "--http-port", Integer.toString(freePort()),
        "--node-id", "n" + (nodes.size() + 1) + "-" + clusterName,
        "--node-verticles", "2",
        "--redis-url", redisServer.url(),
        "--cluster-name", clusterName,
        "--cluster-port", Integer.toString(clusterPort),
        "--cluster-members", "127.0.0.1:" + clusterPort));
    args.addAll(LOOPBACK_CLIENTS);
    args.addAll(NO_RESUME);
    settings.forEach((k, v) -> {
      args.add("--" + k);
      args.add(v);
    });
    Config config = ConfigLoader.load(args, Map.of());
    Node node = Node.start(config).await();
    nodes.add(node);
    return node;
  }

  /**
   * Stops node {@code i} the way a crash would, as far as Redis and its peers can tell: its
   * Vert.x (sockets, heartbeat, cluster membership) goes away without withdrawing anything.
   * The node keeps its index; {@link #close} skips it.
   */
  public void crash(int i) {
    Node n = nodes.get(i);
    crashed.add(n);
    n.vertx().close().await();
  }

  public Node node(int i) {
    return nodes.get(i);
  }

  public int port(int i) {
    return nodes.get(i).port();
  }

  public List<Node> nodes() {
    return nodes;
  }

  public LocalRedis redisServer() {
    return redisServer;
  }

  /** Kills the Redis process, as a crash would; {@link #startRedis} brings an empty one back. */
  public void killRedis() {
    redisServer.kill();
  }

  /** Starts a new, empty Redis on the same port (a restart that lost all data). */
  public void startRedis() {
    try {
      redisServer = LocalRedis.start(redisServer.port());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Connects a peer to node {@code i} and joins {@code room} as {@code peer}. */
  public TestPeer join(int i, String room, String peer) {
    return TestPeer.join(client, port(i), room, peer);
  }

  /** Connects a peer to node {@code i} and joins {@code room} as {@code peer} in {@code role} (none if null). */
  public TestPeer join(int i, String room, String peer, String role) {
    return TestPeer.join(client, port(i), room, peer, role);
  }

  /** Connects a peer to node {@code i} without joining. */
  public TestPeer connect(int i) {
    return TestPeer.connect(client, port(i));
  }

  /** Runs one Redis command from the test. */
  public Response redis(Command cmd, Object... args) {
    Request req = Request.cmd(cmd);
    for (Object a : args) {
      req.arg(String.valueOf(a));
    }
    return redis.send(req).await();
  }

  /**
   * An HTTP request to node {@code i}: {@code method} on {@code path}, with
   * {@code Authorization: Bearer <bearer>} unless {@code bearer} is null, and {@code body} (none if null).
   */
  public HttpResponse<String> http(int i, String method, String path, String bearer, String body) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port(i) + path))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (bearer != null) {
      b.header("Authorization", "Bearer " + bearer);
    }
    try {
      return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The sum over the running nodes, and over its series (labels), of the {@code /metrics} counter or gauge {@code name}. */
  public long metric(String name) {
    long sum = 0;
    for (int i = 0; i < nodes.size(); i++) {
      if (crashed.contains(nodes.get(i))) {
        continue;
      }
      for (String line : http(i, "GET", "/metrics", null, null).body().split("\n")) {
        if (line.startsWith(name + " ") || line.startsWith(name + "{")) { // every series of it, summed
          sum += (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)); // Prometheus writes 2.0
        }
      }
    }
    return sum;
  }

  /** The WebSocket client the cluster's peers use. */
  public WebSocketClient client() {
    return client;
  }

  public Vertx clientVertx() {
    return clientVertx;
  }

  @Override
  public void close() {
    List<Future<Void>> stops = new ArrayList<>();
    for (Node n : nodes) {
      if (!crashed.contains(n)) {
        stops.add(n.stop());
      }
    }
    try {
      Future.join(stops).await();
    } catch (Exception ignored) {
      // a node that failed to stop cleanly does not fail the next test
    }
    redis.close();
    clientVertx.close().await();
    redisServer.close();
  }

  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
