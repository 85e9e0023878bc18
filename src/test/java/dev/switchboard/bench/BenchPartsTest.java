package dev.switchboard.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The bench's pure parts: its command line, the readings it parses, and how it judges a step. */
class BenchPartsTest {

  @Test
  @DisplayName("a misspelt or valueless option is an error, not a silently different benchmark")
  void args() {
    BenchArgs a = BenchArgs.parse(List.of("--rate", "5_000", "--same", "--duration", "3s"), Set.of("same"));
    assertEquals(5000, a.integer("rate", 1, 1));
    assertTrue(a.flag("same"));
    assertEquals(Duration.ofSeconds(3), a.duration("duration", "10s"));
    a.rejectUnknown();

    BenchArgs typo = BenchArgs.parse(List.of("--rtae", "5"), Set.of());
    typo.integer("rate", 1, 1);
    assertThrows(IllegalArgumentException.class, typo::rejectUnknown);
    assertThrows(IllegalArgumentException.class, () -> BenchArgs.parse(List.of("--rate"), Set.of()));
    assertThrows(IllegalArgumentException.class, () -> BenchArgs.parse(List.of("rate", "5"), Set.of()));
    assertThrows(IllegalArgumentException.class,
        () -> BenchArgs.parse(List.of("--rate", "0"), Set.of()).integer("rate", 1, 1));
    assertThrows(IllegalArgumentException.class,
        () -> BenchArgs.parse(List.of("--duration", "soon"), Set.of()).duration("duration", "1s"));
  }

  @Test
  @DisplayName("bad command lines exit with 2 and the usage; an unknown scenario is named")
  void command() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
    assertEquals(2, BenchCommand.run(List.of("bench"), System.out, e));
    assertEquals(2, BenchCommand.run(List.of("bench", "warp-speed"), System.out, e));
    assertEquals(2, BenchCommand.run(List.of("bench", "relay", "--pairs", "-1"), System.out, e));
    assertEquals(2, BenchCommand.run(List.of("bench", "suite", "--profile", "huge"), System.out, e));
    String text = err.toString(StandardCharsets.UTF_8);
    assertTrue(text.contains("unknown scenario 'warp-speed'"), text);
    assertTrue(text.contains("usage: switchboard bench"), text);
  }

  @Test
  @DisplayName("Redis INFO commandstats is read per command, without the probe's own INFO")
  void commandstats() {
    String info = "# Commandstats\r\n"
        + "cmdstat_evalsha:calls=12,usec=345,usec_per_call=28.75,rejected_calls=0,failed_calls=0\r\n"
        + "cmdstat_info:calls=7,usec=70,usec_per_call=10.00,rejected_calls=0,failed_calls=0\r\n"
        + "cmdstat_hset:calls=3,usec=9,usec_per_call=3.00,rejected_calls=0,failed_calls=0\r\n";
    assertEquals(Map.of("evalsha", 12L, "hset", 3L), RedisProbe.parse(info));

    RedisProbe.Delta background = RedisProbe.Delta.between(Map.of("hset", 3L), Map.of("hset", 5L), 2.0);
    RedisProbe.Delta run = RedisProbe.Delta.between(Map.of("hset", 5L, "evalsha", 12L),
        Map.of("hset", 15L, "evalsha", 112L), 10.0);
    assertEquals(110, run.total());
    assertEquals(100.0, run.net(background), 1e-9, "1 hset/s of background over 10 s is taken off");
  }

  @Test
  @DisplayName("node gauges are summed over their series whose labels match; the metrics URL follows the socket URL")
  void nodeMetrics() {
    String text = "# TYPE jvm_memory_used_bytes gauge\n"
        + "jvm_memory_used_bytes{area=\"heap\",id=\"G1 Eden Space\"} 100000.0\n"
        + "jvm_memory_used_bytes{area=\"heap\",id=\"G1 Old Gen\"} 23456.0\n"
        + "jvm_memory_used_bytes{area=\"nonheap\",id=\"Metaspace\"} 5.0E7\n"
        + "process_resident_memory_bytes 9.87654321E8\n"
        + "switchboard_peers 42.0\n"
        + "switchboard_peers_total 7\n";
    assertEquals(123456, Idle.NodeMemory.gauge(text, "jvm_memory_used_bytes", "area=\"heap\""));
    assertEquals(987654321, Idle.NodeMemory.gauge(text, "process_resident_memory_bytes", ""));
    assertEquals(42, Idle.NodeMemory.gauge(text, "switchboard_peers", ""), "not switchboard_peers_total");
    assertEquals(-1, Idle.NodeMemory.gauge(text, "switchboard_rooms", ""));
    assertEquals("http://10.0.0.5:8080/metrics", Idle.NodeMemory.metricsUrl("ws://10.0.0.5:8080/ws"));
    assertEquals("https://sb.example.com/metrics", Idle.NodeMemory.metricsUrl("wss://sb.example.com/ws"));
  }

  @Test
  @DisplayName("percentiles come from the recorded values; a copy does not move with the original")
  void latency() {
    Latency l = new Latency();
    for (int ms = 1; ms <= 100; ms++) {
      l.recordNanos(ms * 1_000_000L);
    }
    Latency snapshot = l.copy();
    l.recordNanos(60_000_000_000L * 5);
    assertEquals(50.0, snapshot.ms(50), 0.1);
    assertEquals(99.0, snapshot.ms(99), 0.1);
    assertEquals(100.0, snapshot.maxMs(), 0.1);
    assertEquals(100, snapshot.count());
    assertEquals(60_000, l.maxMs(), 60, "anything over a minute counts as a minute");
  }

  @Test
  @DisplayName("a step is sustained only with nothing lost or refused, 95% delivered, and p99 within the SLO")
  void sustained() {
    assertTrue(step(1000, 990, 0, 20.0, Map.of()).sustained(50));
    assertFalse(step(1000, 900, 0, 20.0, Map.of()).sustained(50), "delivered under 95%");
    assertFalse(step(1000, 1000, 1, 20.0, Map.of()).sustained(50), "one message lost");
    assertFalse(step(1000, 1000, 0, 51.0, Map.of()).sustained(50), "p99 over the SLO");
    assertFalse(step(1000, 1000, 0, 1.0, Map.of("rate-limited", 3L)).sustained(50), "refusals");
  }

  private static Result step(long offered, long delivered, long lost, double p99Ms, Map<String, Long> errors) {
    Latency l = new Latency();
    for (int i = 0; i < 100; i++) {
      l.recordNanos((long) (p99Ms * 1_000_000));
    }
    return new Result("relay", new JsonObject()).figure("offeredPerSecond", offered)
        .figure("deliveredPerSecond", delivered).figure("lost", lost).latency("latency", l).errors(errors);
  }

  @Test
  @DisplayName("connects run with at most the given number in flight, and the first failure is reported")
  void connects() {
    Vertx vertx = Vertx.vertx();
    try {
      AtomicInteger inFlight = new AtomicInteger();
      AtomicInteger most = new AtomicInteger();
      Promise<Void> done = Promise.promise();
      vertx.runOnContext(v -> Connects.inOrder(50, 4, i -> {
        most.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
        Promise<Void> p = Promise.promise();
        vertx.setTimer(2, t -> {
          inFlight.decrementAndGet();
          p.complete();
        });
        return p.future();
      }).onComplete(done));
      done.future().await();
      assertEquals(4, most.get());

      AtomicInteger started = new AtomicInteger();
      Promise<Void> failed = Promise.promise();
      vertx.runOnContext(v -> Connects.inOrder(50, 2, i -> {
        started.incrementAndGet();
        Promise<Void> p = Promise.promise();
        vertx.setTimer(2, t -> {
          if (i == 3) {
            p.fail("refused " + i);
          } else {
            p.complete();
          }
        });
        return p.future();
      }).onComplete(failed));
      Future<Void> f = failed.future();
      assertThrows(Exception.class, f::await);
      assertEquals("refused 3", f.cause().getMessage());
      assertTrue(started.get() < 50, "no new connects after a failure: " + started.get());
    } finally {
      vertx.close().await();
    }
  }
}
