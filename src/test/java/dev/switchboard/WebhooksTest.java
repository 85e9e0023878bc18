package dev.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.testing.TestCluster;
import dev.switchboard.testing.TestPeer;
import dev.switchboard.testing.Waits;
import dev.switchboard.webhooks.Signature;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Webhooks against a real HTTP receiver (a Vert.x server in the test, on loopback): the events that
 * happened, each once, by the node where it happened, in order, signed; a receiver that is down
 * for 10 s, then answers 500, then is slow, still gets everything, in order; a full queue drops and
 * counts without slowing relays.
 */
class WebhooksTest {

  static final String SECRET = "webhooks-test-secret-0123456789";

  private final Vertx vertx = Vertx.vertx();
  private final List<JsonObject> got = new CopyOnWriteArrayList<>();
  private final List<String> badSignatures = new CopyOnWriteArrayList<>();
  private volatile int status = 200;
  private volatile long delayMs;
  private HttpServer receiver;

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  /** Starts the receiver on {@code port}: it checks each signature, keeps what it took (2xx), and answers {@link #status}. */
  private void receive(int port) {
    receiver = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
      String text = body.toString();
      if (!Signature.verify(SECRET, req.getHeader(Signature.HEADER), text, System.currentTimeMillis() / 1000, 300)) {
        badSignatures.add(text);
      }
      JsonObject event = new JsonObject(text);
      if (!event.getString("id").equals(req.getHeader("Switchboard-Delivery"))) {
        badSignatures.add("delivery header: " + text);
      }
      int answer = status;
      vertx.setTimer(Math.max(1, delayMs), t -> {
        if (answer / 100 == 2) {
          got.add(event);
        }
        req.response().setStatusCode(answer).end();
      });
    })).listen(port, "127.0.0.1").await();
  }

  private static Map<String, String> settings(int port, String... more) {
    Map<String, String> s = new java.util.HashMap<>(Map.of("webhooks-urls", "http://127.0.0.1:" + port + "/hook",
        "webhooks-secret", SECRET, "webhooks-max-backoff", "500ms"));
    for (int i = 0; i < more.length; i += 2) {
      s.put(more[i], more[i + 1]);
    }
    return s;
  }

  /** The events as {@code event:peer} (or {@code event} for a room's), in the order received. */
  private List<String> names(String node) {
    List<String> out = new ArrayList<>();
    for (JsonObject e : got) {
      if (node == null || node.equals(e.getString("node"))) {
        out.add(e.getString("event") + (e.containsKey("peer") ? ":" + e.getString("peer") : ""));
      }
    }
    return out;
  }

  @Test
  @DisplayName("exactly the events that happened, once, by the node where each happened, in order, signed, with a delivery id and the room's sequence number")
  void eventsInOrderSigned() {
    int port = TestCluster.freePort();
    receive(port);
    try (TestCluster cluster = TestCluster.start(2, settings(port, "webhooks-events",
        "room_started,room_finished,peer_joined,peer_left,peer_state"))) {
      TestPeer alice = cluster.join(0, "hooks", "alice");
      TestPeer bob = cluster.join(1, "hooks", "bob");
      alice.expectPast("peer-joined");
      bob.send(new JsonObject().put("type", "state").put("audio", false).put("id", "s"));
      bob.expectPast("ack");
      bob.send(new JsonObject().put("type", "leave"));
      bob.awaitClose();
      alice.send(new JsonObject().put("type", "leave"));
      alice.awaitClose();
      assertEquals(7, Waits.until(10_000, () -> got.size(), 7), "events: " + names(null));
      String n0 = cluster.node(0).nodeId();
      String n1 = cluster.node(1).nodeId();
      assertEquals(List.of("room_started", "peer_joined:alice", "peer_left:alice", "room_finished"), names(n0));
      assertEquals(List.of("peer_joined:bob", "peer_state:bob", "peer_left:bob"), names(n1));
      assertEquals(List.of(), badSignatures, "every body is signed with the secret, and names its delivery");
      assertEquals(7, new HashSet<>(got.stream().map(e -> e.getString("id")).toList()).size(), "one id per event");
      List<Long> seqs = got.stream().filter(e -> !e.getString("event").startsWith("room_"))
          .map(e -> e.getLong("seq")).sorted().toList();
      assertEquals(List.of(1L, 2L, 3L, 4L, 5L), seqs, "each change has the room's next sequence number: the two"
          + " joins, the state, the two leaves");
      JsonObject left = got.stream().filter(e -> e.getString("event").equals("peer_left")
          && e.getString("peer").equals("bob")).findFirst().orElseThrow();
      assertEquals(List.of("hooks", "left"), List.of(left.getString("room"), left.getString("reason")));
      JsonObject state = got.stream().filter(e -> e.getString("event").equals("peer_state")).findFirst().orElseThrow();
      assertEquals(false, state.getJsonObject("state").getBoolean("audio"));
      JsonObject started = got.stream().filter(e -> e.getString("event").equals("room_started")).findFirst()
          .orElseThrow();
      assertEquals(List.of("mesh", "p2p"), List.of(started.getString("mode"), started.getString("media")));
      assertEquals(7.0, cluster.metric("switchboard_webhooks_delivered_total"), 0.0);
    }
  }

  @Test
  @DisplayName("a receiver down for 10 s, then answering 500, then slow, gets every event afterwards, in order")
  void receiverDownThenBack() {
    int port = TestCluster.freePort();
    try (TestCluster cluster = TestCluster.start(1, settings(port))) {
      List<TestPeer> peers = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        peers.add(cluster.join(0, "down", "p" + i));
      }
      for (TestPeer p : peers) {
        p.send(new JsonObject().put("type", "leave"));
        p.awaitClose();
      }
      Waits.sleep(10_000); // down: nothing listens on the port
      status = 500;
      receive(port);
      Waits.sleep(1_500); // refused with 500: tried again
      assertEquals(0, got.size());
      delayMs = 200;
      status = 200;
      List<String> expected = new ArrayList<>(List.of("room_started"));
      for (int i = 0; i < 5; i++) {
        expected.add("peer_joined:p" + i);
      }
      for (int i = 0; i < 5; i++) {
        expected.add("peer_left:p" + i);
      }
      expected.add("room_finished");
      assertEquals(expected.size(), Waits.until(20_000, () -> got.size(), expected.size()));
      assertEquals(expected, names(null), "in the order they happened, each once");
      assertTrue(cluster.metric("switchboard_webhooks_retries_total") >= 3, "the failed tries are counted");
      assertEquals(List.of(), badSignatures);
    }
  }

  @Test
  @DisplayName("with its receiver down, a full queue drops the newest events, counts them, and relays are not slowed")
  void fullQueueDrops() {
    int port = TestCluster.freePort();
    try (TestCluster cluster = TestCluster.start(1, settings(port, "webhooks-queue", "3"))) {
      TestPeer a = cluster.join(0, "full", "a");
      TestPeer b = cluster.join(0, "full", "b");
      for (int i = 0; i < 8; i++) {
        TestPeer c = cluster.join(0, "full", "c" + i);
        c.send(new JsonObject().put("type", "leave"));
        c.awaitClose();
      }
      // 1 room_started + 10 joins + 8 leaves: 19 events for a queue of 3.
      assertEquals(16, Waits.until(5000, () -> cluster.metric("switchboard_webhooks_dropped_total"), 16L));
      assertEquals(3L, cluster.metric("switchboard_webhooks_queued"));
      long start = System.nanoTime();
      for (int i = 0; i < 50; i++) {
        a.send(new JsonObject().put("type", "message").put("to", "b").put("data", i).put("id", i));
        assertEquals(i, a.expectPast("ack").getInteger("id"));
      }
      long ms = (System.nanoTime() - start) / 1_000_000;
      assertTrue(ms < 5_000, "50 relays acked one after the other in " + ms + " ms while webhooks back up");
      assertEquals(50, Waits.drain(b, 300).stream().filter(m -> "message".equals(m.getString("type"))).count());
    }
  }
}
