package dev.switchboard.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * What every scenario runs with: the load generator's own Vert.x (its event loops are the
 * shards), one WebSocket client, and optional probes of Redis and of the
 * node processes. Used from one driving thread, never from an event loop.
 */
final class Bench implements AutoCloseable {

  /** Connections in flight per shard while peers connect: fast, without a SYN flood. */
  static final int CONNECTS_IN_FLIGHT = 32;

  final Vertx vertx;
  final WebSocketClient client;
  final int loops;
  final RedisProbe redis;
  final Processes processes;

  Bench(int loops, RedisProbe redis, Processes processes) {
    this.loops = loops;
    this.redis = redis;
    this.processes = processes;
    this.vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(loops));
    this.client = vertx.createWebSocketClient(new WebSocketClientOptions()
        .setMaxConnections(Integer.MAX_VALUE).setConnectTimeout(10_000).setMaxFrameSize(1 << 20)
        .setMaxMessageSize(1 << 20));
  }

  /** Deploys one shard per event loop (each lands on the next loop, round robin). */
  <S extends Shard> List<S> deploy(IntFunction<S> shard) {
    List<S> shards = new ArrayList<>();
    for (int i = 0; i < loops; i++) {
      S s = shard.apply(i);
      vertx.deployVerticle(s).await();
      shards.add(s);
    }
    return shards;
  }

  void undeployAll() {
    List<Future<Void>> undeploys = new ArrayList<>();
    for (String id : vertx.deploymentIDs()) {
      undeploys.add(vertx.undeploy(id));
    }
    Future.join(undeploys).await();
  }

  /** Sleeps the driving thread until {@code System.nanoTime()} reaches {@code deadline}. */
  static void sleepUntil(long deadline) {
    long left;
    while ((left = deadline - System.nanoTime()) > 0) {
      try {
        Thread.sleep(Math.max(1, left / 1_000_000), (int) (left % 1_000_000));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
    }
  }

  @Override
  public void close() {
    client.close().await();
    vertx.close().await();
  }
}
