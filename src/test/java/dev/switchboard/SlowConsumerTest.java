package dev.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.transport.Refusal;
import dev.switchboard.testing.TestCluster;
import dev.switchboard.testing.TestPeer;
import dev.switchboard.testing.Waits;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonObject;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Clients that stop reading while others send: each is closed with 1008 once its backlog passes
 * its bound, its peer leaves, the node's memory stays flat, and the peers that do read get every
 * message, in order.
 */
class SlowConsumerTest {

  private static final int OUTBOUND_BYTES = 2 * 1024 * 1024;
  private static final int MESSAGE_BYTES = 32 * 1024;
  private static TestCluster cluster;

  @BeforeAll
  static void start() {
    cluster = TestCluster.start(1, Map.of(
        "limits-outbound-bytes", Integer.toString(OUTBOUND_BYTES),
        "limits-slow-consumer-timeout", "60s",
        "limits-rate", "100000",
        "limits-rate-burst", "100000"));
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  /** A reader that keeps nothing: it counts messages and checks each sender's sequence. */
  private static final class CountingReader {
    final WebSocket ws;
    final AtomicInteger received = new AtomicInteger();
    final AtomicInteger outOfOrder = new AtomicInteger();
    final Map<String, Integer> lastSeq = new java.util.concurrent.ConcurrentHashMap<>();
    final Set<String> left = java.util.concurrent.ConcurrentHashMap.newKeySet();
    final CompletableFuture<JsonObject> welcome = new CompletableFuture<>();

    CountingReader(WebSocketClient client, int port, String room, String peer) {
      ws = client.connect(port, "127.0.0.1", "/ws").await();
      ws.textMessageHandler(text -> {
        JsonObject m = new JsonObject(text);
        switch (m.getString("type")) {
          case "welcome" -> welcome.complete(m);
          case "message" -> {
            int seq = m.getJsonObject("data").getInteger("seq");
            Integer prev = lastSeq.put(m.getString("from"), seq);
            if (prev != null && seq != prev + 1 || prev == null && seq != 0) {
              outOfOrder.incrementAndGet();
            }
            received.incrementAndGet();
          }
          case "peer-left" -> left.add(m.getString("peer") + ":" + m.getString("reason"));
          default -> { }
        }
      });
      ws.writeTextMessage(new JsonObject().put("type", "join").put("room", room).put("peer", peer).encode()).await();
      welcome.orTimeout(10, java.util.concurrent.TimeUnit.SECONDS).join();
    }
  }

  /** Heap in use after collection, and direct buffers (where Netty keeps bytes on their way out). */
  private record Memory(long heap, long direct) {
    static Memory now() {
      MemoryMXBean heap = ManagementFactory.getMemoryMXBean();
      for (int i = 0; i < 3; i++) {
        System.gc();
        Waits.sleep(100);
      }
      long direct = 0;
      for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
        direct += pool.getMemoryUsed();
      }
      return new Memory(heap.getHeapMemoryUsage().getUsed(), direct);
    }
  }

  @Test
  @DisplayName("5 stalled readers of 2 senders: each closed with 1008, memory flat, readers get everything in order")
  void stalledReadersAreCutOff() throws Exception {
    String room = "slow";
    WebSocketClient client = TestPeer.client(cluster.clientVertx());
    List<CountingReader> readers = List.of(
        new CountingReader(client, cluster.port(0), room, "reader-1"),
        new CountingReader(client, cluster.port(0), room, "reader-2"));
    List<TestPeer> stalled = new ArrayList<>();
    for (int i = 1; i <= 5; i++) {
      TestPeer p = cluster.join(0, room, "stalled-" + i);
      p.stopReading();
      stalled.add(p);
    }
    // Senders read too (each gets the other's messages), and like the readers keep nothing.
    List<CountingReader> senders = List.of(new CountingReader(client, cluster.port(0), room, "sender-1"),
        new CountingReader(client, cluster.port(0), room, "sender-2"));
    Memory before = Memory.now();
    long slowBefore = cluster.node(0).refusals().get(Refusal.SLOW_CONSUMER);

    // Each sender broadcasts 600 messages of 32 KiB: 38 MB offered to every stalled reader,
    // 190 MB in all that an unbounded queue would have to hold.
    int perSender = 600;
    String filler = "x".repeat(MESSAGE_BYTES);
    AtomicLong peakOutbound = new AtomicLong();
    List<Thread> threads = new ArrayList<>();
    for (CountingReader sender : senders) {
      Thread t = new Thread(() -> {
        for (int seq = 0; seq < perSender; seq++) {
          sender.ws.writeTextMessage(new JsonObject().put("type", "message")
              .put("data", new JsonObject().put("seq", seq).put("fill", filler)).encode()).await();
          // About 30 MB/s per sender: a reader that reads keeps up even on a busy 2-core machine,
          // while one that does not read falls 2 MiB behind within a second.
          Waits.sleep(1);
          peakOutbound.accumulateAndGet(outboundBytes(), Math::max);
        }
      });
      t.start();
      threads.add(t);
    }
    for (Thread t : threads) {
      t.join(60_000);
    }
    int expected = perSender * senders.size();
    for (CountingReader r : readers) {
      assertTrue(Waits.waitFor(30_000, () -> r.received.get() >= expected),
          "a reader got " + r.received.get() + " of " + expected);
      assertEquals(0, r.outOfOrder.get(), "messages arrive in order per sender");
    }
    Memory after = Memory.now();

    for (CountingReader r : readers) {
      assertTrue(Waits.waitFor(10_000, () -> r.left.size() == 5), "peer-left for each stalled reader: " + r.left);
      for (int i = 1; i <= 5; i++) {
        assertTrue(r.left.contains("stalled-" + i + ":disconnected"), r.left.toString());
      }
    }
    assertEquals(slowBefore + 5, cluster.node(0).refusals().get(Refusal.SLOW_CONSUMER));
    long heapGrew = after.heap() - before.heap();
    long directGrew = after.direct() - before.direct();
    double offered = 5.0 * expected * MESSAGE_BYTES;
    System.out.printf("slow consumers: heap %+.1f MB, direct %+.1f MB (pooled buffers included), peak node"
        + " outbound %.1f MB, offered to stalled readers %.0f MB%n", heapGrew / 1e6, directGrew / 1e6,
        peakOutbound.get() / 1e6, offered / 1e6);
    // Unbounded queues would hold what the stalled readers were offered (~197 MB) in heap or direct
    // memory; bounded ones hold at most 5 x 2 MiB plus Netty's pooled chunks.
    assertTrue(heapGrew < 32_000_000, "heap grew by " + heapGrew / 1_000_000 + " MB");
    assertTrue(heapGrew + directGrew < offered / 3, "memory grew by " + (heapGrew + directGrew) / 1_000_000 + " MB");
    assertTrue(peakOutbound.get() <= 7L * (OUTBOUND_BYTES + 2 * MESSAGE_BYTES) + 8 * MESSAGE_BYTES,
        "the node's outbound bytes stay within the per-socket bounds: " + peakOutbound.get());
    assertTrue(Waits.waitFor(10_000, () -> outboundBytes() < 4L * MESSAGE_BYTES),
        "outbound bytes return to nothing once the stalled sockets are gone: " + outboundBytes());
    assertTrue(Waits.waitFor(10_000, () -> senders.get(0).received.get() == perSender
        && senders.get(1).received.get() == perSender), "each sender got the other's messages");
    senders.forEach(r -> r.ws.close());
    readers.forEach(r -> r.ws.close());
    stalled.forEach(p -> {
      p.resumeReading();
      p.disconnect();
    });
  }

  @Test
  @DisplayName("a reader that stays behind past slow-consumer-timeout is closed with 1008 by the timer")
  void slowTimerCloses() throws Exception {
    try (TestCluster c = TestCluster.start(1, Map.of(
        "limits-outbound-bytes", Integer.toString(64 * 1024 * 1024),
        "limits-write-queue-bytes", "65536",
        "limits-slow-consumer-timeout", "1s",
        "limits-rate", "100000",
        "limits-rate-burst", "100000"))) {
      TestPeer reader = c.join(0, "timer", "reader");
      TestPeer lagging = c.join(0, "timer", "lagging");
      TestPeer sender = c.join(0, "timer", "sender");
      reader.expect("peer-joined");
      reader.expect("peer-joined");
      lagging.expect("peer-joined");
      lagging.stopReading();
      String filler = "y".repeat(MESSAGE_BYTES);
      // ~16 MB: more than loopback's socket buffers take, so the node holds a backlog for lagging.
      for (int seq = 0; seq < 500; seq++) {
        sender.send(new JsonObject().put("type", "message").put("to", "lagging").put("data", filler));
      }
      long start = System.nanoTime();
      JsonObject left = null;
      while (left == null && System.nanoTime() - start < 15_000_000_000L) {
        JsonObject m = reader.next(Duration.ofSeconds(15));
        if ("peer-left".equals(m.getString("type"))) {
          left = m;
        }
      }
      assertTrue(left != null, "the lagging reader left");
      assertEquals("lagging", left.getString("peer"));
      assertEquals("disconnected", left.getString("reason"));
      assertEquals(1, c.node(0).refusals().get(Refusal.SLOW_CONSUMER));
      sender.close();
      reader.close();
      lagging.resumeReading();
      lagging.disconnect();
    }
  }

  private static long outboundBytes() {
    return cluster.node(0).outbound().bytes();
  }
}
