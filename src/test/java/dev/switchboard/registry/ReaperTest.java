package dev.switchboard.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * What a node does when the cluster says another one left ({@link Reaper#nodeLeft}), against a
 * real Redis: who is reaped at once, who only once its heartbeat stops, and who is left alone.
 * Nodes other than the reaping one are records in Redis (written by hand for a dead node, by a
 * running {@link NodeRecord} for a live one); the Hazelcast side is end to end in
 * {@code FastFailureDetectionTest}.
 */
class ReaperTest {

  /** The reaping node's heartbeat: a minority waits one and a half of these for another's beat. */
  static final Duration HEARTBEAT = Duration.ofMillis(200);

  static LocalRedis server;
  Vertx vertx;
  Redis redis;
  Keys keys;
  RedisRoomStore store;
  Reaper reaper;
  final List<String> lost = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void startRedis() throws Exception {
    server = LocalRedis.start();
  }

  @AfterAll
  static void stopRedis() {
    server.close();
  }

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    redis = Redis.createClient(vertx, server.url());
    keys = new Keys("t" + UUID.randomUUID().toString().substring(0, 8) + ":");
    store = new RedisRoomStore(redis, keys, Duration.ofSeconds(2), () -> "epoch-1");
    send(Command.SET, keys.epoch(), "epoch-1"); // the heartbeats only set it when there is none
    reaper = new Reaper(vertx, redis, keys, store, "a", HEARTBEAT, Duration.ofSeconds(2), Duration.ZERO,
        (room, peer, dead, change) -> lost.add(room + "/" + peer + "@" + dead), () -> true, () -> false);
  }

  @AfterEach
  void tearDown() {
    vertx.close().await();
  }

  private Response send(Command cmd, String... args) {
    Request r = Request.cmd(cmd);
    for (String a : args) {
      r.arg(a);
    }
    return redis.send(r).await();
  }

  /** A node's record as its last heartbeat left it; with a member in room {@code r}. */
  private void deadNodeWithAMember(String node) {
    send(Command.HSET, keys.node(node), "url", "ws://x", "beat", "7", "state", "active");
    send(Command.PEXPIRE, keys.node(node), "60000");
    send(Command.ZADD, keys.nodes(), "1", node);
    join(node);
  }

  private void join(String node) {
    JsonObject record = new JsonObject().put("node", node).put("meta", new JsonObject()).put("state", new JsonObject())
        .put("role", "peer").put("joinedAt", 1L);
    assertEquals(RoomStore.JoinStatus.OK, store.join("r", "p-" + node, node, record, 25, null).await().status());
  }

  private NodeRecord liveNode(String node, Duration heartbeat) {
    NodeRecord record = new NodeRecord(vertx, redis, keys, new NodeRecord.Identity(node, "ws://" + node, "test", 1L),
        heartbeat, Duration.ofSeconds(60), () -> 0);
    record.start(new NodeRecord.Listener() {
      @Override
      public void dataLost() {
      }

      @Override
      public void redisBack() {
      }

      @Override
      public void reaped() {
      }
    }).await();
    return record;
  }

  private boolean reaped(String node) {
    return send(Command.EXISTS, keys.node(node)).toInteger() == 0
        && send(Command.EXISTS, keys.reaped(node)).toInteger() == 1;
  }

  @Test
  @DisplayName("a node that left while a majority remains is reaped at once: record gone, marked, its peers lost once")
  void majorityReapsAtOnce() {
    liveNode("a", Duration.ofSeconds(10));
    liveNode("b", Duration.ofSeconds(10));
    deadNodeWithAMember("c");
    long start = System.nanoTime();
    assertEquals(1, reaper.nodeLeft("c", 2).await());
    long ms = (System.nanoTime() - start) / 1_000_000;
    assertTrue(ms < HEARTBEAT.toMillis(), "no wait for a heartbeat: " + ms + " ms");
    assertTrue(reaped("c"));
    assertEquals(List.of("r/p-c@c"), lost);
    assertNull(send(Command.ZSCORE, keys.nodes(), "c"), "forgotten once it holds no peers");
    assertEquals(0, reaper.nodeLeft("c", 2).await(), "told twice, reaped once");
    assertEquals(1, lost.size());
  }

  @Test
  @DisplayName("one of two: the survivor reaps the other only once it has seen its heartbeat stop")
  void minorityWaitsForTheHeartbeat() {
    liveNode("a", Duration.ofSeconds(10));
    deadNodeWithAMember("c");
    long start = System.nanoTime();
    assertEquals(1, reaper.nodeLeft("c", 1).await());
    long ms = (System.nanoTime() - start) / 1_000_000;
    assertTrue(ms >= reaper.beatWaitMs(), "watched the heartbeat first: " + ms + " ms");
    assertTrue(reaped("c"));
    assertEquals(List.of("r/p-c@c"), lost);
  }

  @Test
  @DisplayName("a node cut off from this one but still writing its heartbeat is left alone, its peers kept")
  void heartbeatingNodeLeftAlone() {
    liveNode("a", Duration.ofSeconds(10));
    liveNode("b", Duration.ofMillis(50));
    join("b");
    // a and b alone: a minority of the live records cannot tell which side is cut off.
    assertEquals(0, reaper.nodeLeft("b", 1).await());
    assertEquals(1, send(Command.EXISTS, keys.node("b")).toInteger());
    assertEquals(0, send(Command.EXISTS, keys.reaped("b")).toInteger());
    assertNotNull(send(Command.HGET, keys.roomPeers("r"), "p-b"), "its peer is still in the room");
    assertTrue(lost.isEmpty());
  }

  @Test
  @DisplayName("a node whose record expired already is reaped as the sweep would; this node never reaps itself")
  void expiredRecordAndSelf() {
    liveNode("a", Duration.ofSeconds(10));
    send(Command.ZADD, keys.nodes(), "1", "c");
    join("c");
    assertEquals(1, reaper.nodeLeft("c", 1).await());
    assertEquals(List.of("r/p-c@c"), lost);
    assertEquals(0, reaper.nodeLeft("a", 1).await());
    assertEquals(1, send(Command.EXISTS, keys.node("a")).toInteger());
  }

  @Test
  @DisplayName("a node that withdrew its record before leaving (a clean stop) is not marked reaped")
  void cleanStopNotReaped() {
    liveNode("a", Duration.ofSeconds(10));
    NodeRecord b = liveNode("b", Duration.ofSeconds(10));
    b.withdraw().await();
    assertEquals(0, reaper.nodeLeft("b", 1).await());
    assertEquals(0, send(Command.EXISTS, keys.reaped("b")).toInteger(), "restarted under its id, it sees no marker");
  }

  @Test
  @DisplayName("a node the others declared dead (it hung, or was cut off) judges no one when it sees them leave")
  void declaredDeadJudgesNoOne() {
    liveNode("a", Duration.ofSeconds(10));
    liveNode("b", Duration.ofSeconds(10));
    deadNodeWithAMember("c");
    send(Command.SET, keys.reaped("a"), "b"); // b reaped a while a was frozen
    assertEquals(0, reaper.nodeLeft("c", 2).await());
    assertEquals(1, send(Command.EXISTS, keys.node("c")).toInteger(), "c is left to the others");
    assertTrue(lost.isEmpty());
  }
}
