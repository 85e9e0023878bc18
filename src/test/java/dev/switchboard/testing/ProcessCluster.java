package dev.switchboard.testing;

import dev.switchboard.registry.LocalRedis;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.IntStream;

/**
 * A cluster of node processes on loopback for a test: its own Redis, a Hazelcast cluster name of
 * its own, and every member port listed to each node (as a StatefulSet lists every pod), so a
 * node started again finds the others whichever port it got. Also a Vert.x with a WebSocket
 * client for the test's peers. Close it in the test's clean-up.
 */
public final class ProcessCluster implements AutoCloseable {

  public final LocalRedis redis;
  public final Vertx vertx;
  /** Vert.x queues a client's sockets past 50 per server by default: this one takes 1000. */
  public final WebSocketClient client;
  /** The nodes, in the order started; a test may replace one it restarted. */
  public final List<NodeProcess> nodes = new CopyOnWriteArrayList<>();
  private final String name;
  private final int firstPort;
  private final int size;

  /** A cluster of at most {@code size} nodes at once, named after {@code prefix}. */
  public ProcessCluster(String prefix, int size) throws Exception {
    this.redis = LocalRedis.start();
    this.vertx = Vertx.vertx();
    this.client = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(1000)
        .setConnectTimeout(5000));
    this.name = prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    this.firstPort = 42000 + ThreadLocalRandom.current().nextInt(300) * 20;
    this.size = size;
  }

  /** Starts node {@code id} with {@code flags} besides the cluster's own, and waits until it is healthy. */
  public NodeProcess start(String id, List<String> flags) throws Exception {
    String members = String.join(",", IntStream.range(0, size).mapToObj(i -> "127.0.0.1:" + (firstPort + i)).toList());
    List<String> all = new ArrayList<>(List.of("--redis-url", redis.url(), "--cluster-name", name,
        "--cluster-port", Integer.toString(firstPort), "--cluster-members", members));
    all.addAll(flags);
    return NodeProcess.startHealthy(id, all);
  }

  /** The WebSocket ports of the nodes up now. */
  public List<Integer> ports() {
    return nodes.stream().map(NodeProcess::port).toList();
  }

  @Override
  public void close() throws Exception {
    for (NodeProcess n : nodes) {
      n.close();
    }
    vertx.close().await();
    redis.close();
  }
}
