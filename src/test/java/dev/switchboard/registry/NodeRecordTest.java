package dev.switchboard.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The node record and load in a real Redis: what an SRE reads with redis-cli. */
@ExtendWith(VertxExtension.class)
class NodeRecordTest {

  static LocalRedis server;
  Redis redis;
  final Keys keys = new Keys("sb:");
  String node;

  @BeforeAll
  static void startRedis() throws Exception {
    server = LocalRedis.start();
  }

  @AfterAll
  static void stopRedis() {
    server.close();
  }

  @BeforeEach
  void setUp(Vertx vertx) {
    redis = Redis.createClient(vertx, server.url());
    node = "n-" + UUID.randomUUID().toString().substring(0, 8);
  }

  private NodeRecord load(Vertx vertx, Duration heartbeat, Duration ttl) {
    return new NodeRecord(vertx, redis, keys, new NodeRecord.Identity(node, "http://127.0.0.1:9999", "test", 1234L),
        heartbeat, ttl, () -> 3);
  }

  private Response await(Request r) throws Exception {
    return redis.send(r).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  private Response hget(String field) throws Exception {
    return await(Request.cmd(Command.HGET).arg(keys.node(node)).arg(field));
  }

  private static void eventually(Check check) throws Exception {
    long deadline = System.currentTimeMillis() + 5000;
    AssertionError last = null;
    while (System.currentTimeMillis() < deadline) {
      try {
        check.run();
        return;
      } catch (AssertionError e) {
        last = e;
        Thread.sleep(20);
      }
    }
    throw last;
  }

  /** A node that only does {@code action} when its writes find it was reaped. */
  private static NodeRecord.Listener onReaped(Runnable action) {
    return new NodeRecord.Listener() {
      @Override
      public void dataLost() {
      }

      @Override
      public void redisBack() {
      }

      @Override
      public void reaped() {
        action.run();
      }
    };
  }

  /** A node that does nothing about what its writes find. */
  private static final NodeRecord.Listener QUIET = onReaped(() -> { });

  interface Check {
    void run() throws Exception;
  }

  @Test
  @DisplayName("the record has every field, a TTL of the configured length, and the node's score in sb:nodes")
  void recordFields(Vertx vertx) throws Exception {
    NodeRecord load = load(vertx, Duration.ofSeconds(2), Duration.ofSeconds(6));
    load.start(QUIET).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    assertEquals("http://127.0.0.1:9999", hget("url").toString());
    assertEquals("0", hget("connections").toString());
    assertEquals("3", hget("rooms").toString());
    assertEquals("active", hget("state").toString());
    assertEquals("1234", hget("startedAt").toString());
    assertEquals("test", hget("version").toString());
    long beat = Long.parseLong(hget("heartbeatAt").toString());
    assertTrue(Math.abs(System.currentTimeMillis() - beat) < 5000);
    long ttl = await(Request.cmd(Command.PTTL).arg(keys.node(node))).toLong();
    assertTrue(ttl > 5000 && ttl <= 6000, "ttl " + ttl);
    assertEquals(0, await(Request.cmd(Command.ZSCORE).arg(keys.nodes()).arg(node)).toInteger());
    load.withdraw().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    assertEquals(0, await(Request.cmd(Command.EXISTS).arg(keys.node(node))).toInteger());
    assertNull(await(Request.cmd(Command.ZSCORE).arg(keys.nodes()).arg(node)));
  }

  @Test
  @DisplayName("connects and disconnects are written at once, as absolute counts")
  void countsAtOnce(Vertx vertx) throws Exception {
    NodeRecord load = load(vertx, Duration.ofSeconds(30), Duration.ofSeconds(90));
    load.start(QUIET).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    for (int i = 0; i < 50; i++) {
      load.connected();
    }
    for (int i = 0; i < 20; i++) {
      load.disconnected();
    }
    eventually(() -> {
      assertEquals("30", hget("connections").toString());
      assertEquals(30, await(Request.cmd(Command.ZSCORE).arg(keys.nodes()).arg(node)).toInteger());
    });
  }

  @Test
  @DisplayName("a wrong figure written by someone else is corrected by the next heartbeat")
  void heartbeatCorrectsDrift(Vertx vertx) throws Exception {
    NodeRecord load = load(vertx, Duration.ofMillis(200), Duration.ofSeconds(2));
    load.start(QUIET).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    load.connected();
    eventually(() -> assertEquals("1", hget("connections").toString()));
    await(Request.cmd(Command.ZADD).arg(keys.nodes()).arg(999).arg(node));
    await(Request.cmd(Command.HSET).arg(keys.node(node)).arg("connections").arg("999"));
    eventually(() -> {
      assertEquals("1", hget("connections").toString());
      assertEquals(1, await(Request.cmd(Command.ZSCORE).arg(keys.nodes()).arg(node)).toInteger());
    });
    load.withdraw();
  }

  @Test
  @DisplayName("an expired record is written back quietly; a reaped mark is reported, then removed once the node acted")
  void expiredVersusReaped(Vertx vertx) throws Exception {
    NodeRecord load = load(vertx, Duration.ofMillis(200), Duration.ofSeconds(2));
    java.util.concurrent.atomic.AtomicInteger reaped = new java.util.concurrent.atomic.AtomicInteger();
    load.start(onReaped(reaped::incrementAndGet)).toCompletionStage().toCompletableFuture()
        .get(5, TimeUnit.SECONDS);
    await(Request.cmd(Command.DEL).arg(keys.node(node)));
    eventually(() -> assertEquals("active", String.valueOf(hget("state"))));
    Thread.sleep(300);
    assertEquals(0, reaped.get(), "an expired record alone is not a reap");
    await(Request.cmd(Command.SET).arg(keys.reaped(node)).arg("someone"));
    eventually(() -> assertTrue(reaped.get() >= 1, "reported"));
    eventually(() -> assertEquals(0, await(Request.cmd(Command.EXISTS).arg(keys.reaped(node))).toInteger(),
        "the mark is removed once the listener dropped the node's state"));
    int after = reaped.get();
    Thread.sleep(500);
    assertTrue(reaped.get() <= after + 1, "no more reports once acknowledged");
    assertTrue(load.healthyForMs() > 0);
    load.drain();
    eventually(() -> assertEquals("draining", hget("state").toString()));
    load.withdraw();
  }
}
