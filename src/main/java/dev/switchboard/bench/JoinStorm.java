package dev.switchboard.bench;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code join-storm} scenario: peers join and leave as fast as the cluster takes them. Each
 * room has an anchor peer on the second node; {@code concurrency} joiners on the first node loop
 * through connect, {@code join}, an {@code offer} to the anchor as soon as {@code welcome}
 * arrives, the anchor's {@code answer}, {@code leave}. A join counts once its {@code welcome}
 * arrives; the time from {@code welcome} to the anchor's answer is how long until the new peer
 * is reachable across nodes.
 *
 * <p>Everything the protocol promises after {@code welcome} is checked, and any miss is a lost
 * message: the anchor must be in {@code welcome.peers}; the offer must reach it, after the
 * {@code peer-joined} for its sender; the answer must come back; and the anchor must see
 * {@code peer-left} for every joiner.
 */
final class JoinStorm {

  record Spec(List<String> nodes, int concurrency, long warmupNanos, long durationNanos) {
    JsonObject json() {
      return new JsonObject().put("nodes", nodes.size()).put("concurrency", concurrency)
          .put("warmupSeconds", warmupNanos / 1e9).put("durationSeconds", durationNanos / 1e9);
    }
  }

  /** Concurrent joiners per room: with the anchor, well inside the default room size of 25. */
  private static final int JOINERS_PER_ROOM = 4;
  /** How long a joiner waits for the anchor's answer before it counts the exchange as lost. */
  private static final long ANSWER_TIMEOUT_MS = 5000;
  /** Pause before the next cycle after a refused connect or join, so a refusal does not spin. */
  private static final long RETRY_MS = 20;
  private static final long DRAIN_NANOS = 8_000_000_000L;

  private JoinStorm() {
  }

  static Result run(Bench bench, Spec spec) {
    String run = Long.toString(System.nanoTime() % 1_000_000_000L, 36);
    List<StormShard> shards = bench.deploy(i -> new StormShard(bench, spec, i, run));
    try {
      Future.all(shards.stream().map(StormShard::anchorsJoin).toList()).await();
      long t0 = System.nanoTime() + 50_000_000L;
      long windowStart = t0 + spec.warmupNanos();
      long windowEnd = windowStart + spec.durationNanos();
      Future.all(shards.stream().map(s -> s.start(windowStart, windowEnd)).toList()).await();
      Bench.sleepUntil(windowStart);
      Map<String, Double> cpuStart = bench.processes.cpuSeconds();
      Map<String, Long> redisStart = bench.redis == null ? null : bench.redis.calls();
      Bench.sleepUntil(windowEnd);
      Map<String, Double> cpuEnd = bench.processes.cpuSeconds();
      Map<String, Long> redisEnd = bench.redis == null ? null : bench.redis.calls();
      long drainUntil = System.nanoTime() + DRAIN_NANOS;
      Totals t;
      do {
        Bench.sleepUntil(System.nanoTime() + 100_000_000L);
        t = Totals.sum(Future.all(shards.stream().map(StormShard::totals).toList()).await().list());
      } while ((t.active > 0 || t.unannouncedLeaves > 0) && System.nanoTime() < drainUntil);
      double seconds = spec.durationNanos() / 1e9;
      Result r = new Result("join-storm", spec.json());
      r.figure("joinsPerSecond", Math.round(t.joinsInWindow / seconds));
      r.figure("joins", t.joins);
      r.figure("cycles", t.cycles);
      r.figure("lost", t.lost.values().stream().mapToLong(Long::longValue).sum());
      JsonObject lost = new JsonObject();
      t.lost.forEach(lost::put);
      r.figure("lostBy", lost);
      r.figure("orderViolations", t.orderViolations);
      r.latency("join", t.joinLatency);
      r.latency("reachable", t.reach);
      r.errors(t.errors);
      r.cpu(Processes.percentOfCore(cpuStart, cpuEnd, seconds));
      if (redisStart != null) {
        r.redis(bench.redis, RedisProbe.Delta.between(redisStart, redisEnd, seconds), t.joinsInWindow, "perJoin");
      }
      return r;
    } finally {
      Future.join(shards.stream().map(StormShard::closeAll).toList()).await();
      bench.undeployAll();
    }
  }

  private record Totals(long joins, long joinsInWindow, long cycles, long active, long unannouncedLeaves,
                        long orderViolations, Map<String, Long> lost, Map<String, Long> errors,
                        Latency joinLatency, Latency reach) {
    static Totals sum(List<Totals> all) {
      Map<String, Long> lost = new HashMap<>();
      Map<String, Long> errors = new HashMap<>();
      Latency join = new Latency();
      Latency reach = new Latency();
      long joins = 0;
      long inWindow = 0;
      long cycles = 0;
      long active = 0;
      long unannounced = 0;
      long order = 0;
      for (Totals t : all) {
        joins += t.joins;
        inWindow += t.joinsInWindow;
        cycles += t.cycles;
        active += t.active;
        unannounced += t.unannouncedLeaves;
        order += t.orderViolations;
        t.lost.forEach((k, v) -> lost.merge(k, v, Long::sum));
        t.errors.forEach((k, v) -> errors.merge(k, v, Long::sum));
        join.add(t.joinLatency);
        reach.add(t.reach);
      }
      return new Totals(joins, inWindow, cycles, active, unannounced, order, lost, errors, join, reach);
    }
  }

  /** One event loop's rooms, anchors and joiners. */
  private static final class StormShard extends Shard {
    private final Bench bench;
    private final Spec spec;
    private final int index;
    private final String run;
    private final int slots;
    private final int rooms;
    private final List<BenchPeer> anchors = new ArrayList<>();
    /** Per anchor: the joiners it heard {@code peer-joined} for and not yet {@code peer-left}. */
    private final Map<String, Set<String>> present = new HashMap<>();
    private final Set<BenchPeer> joiners = new HashSet<>();
    private final Latency joinLatency = new Latency();
    private final Latency reach = new Latency();
    private final Map<String, Long> lost = new HashMap<>();
    private final Map<String, Long> errors = new HashMap<>();
    private long windowStart;
    private long end;
    private long counter;
    private long joins;
    private long joinsInWindow;
    private long cycles;
    private long active;
    private long orderViolations;
    private boolean closing;

    StormShard(Bench bench, Spec spec, int index, String run) {
      this.bench = bench;
      this.spec = spec;
      this.index = index;
      this.run = run;
      this.slots = spec.concurrency() / bench.loops + (index < spec.concurrency() % bench.loops ? 1 : 0);
      this.rooms = Math.max(1, (slots + JOINERS_PER_ROOM - 1) / JOINERS_PER_ROOM);
    }

    @Override
    public Future<?> start() {
      return Future.succeededFuture();
    }

    private String room(int k) {
      return "storm-" + run + "-" + index + "-" + k;
    }

    private String anchorId(int k) {
      return "anchor-" + index + "-" + k;
    }

    /** The anchors join first, on the last node (the second of two): every joiner is then cross-node. */
    Future<Void> anchorsJoin() {
      return call(() -> {
        String node = spec.nodes().get(spec.nodes().size() - 1);
        return Connects.inOrder(slots == 0 ? 0 : rooms, Bench.CONNECTS_IN_FLIGHT, k -> {
          present.put(anchorId(k), new HashSet<>());
          return BenchPeer.connect(bench.client, node, anchorId(k), new Anchor())
              .compose(p -> p.join(room(k)).map(w -> {
                anchors.add(p);
                return (Void) null;
              }));
        });
      });
    }

    Future<Void> start(long windowStart, long end) {
      return call(() -> {
        this.windowStart = windowStart;
        this.end = end;
        for (int s = 0; s < slots; s++) {
          active++;
          int slot = s;
          vertx.setTimer(1 + s, id -> cycle(slot));
        }
        return Future.succeededFuture();
      });
    }

    private void cycle(int slot) {
      if (closing || System.nanoTime() >= end) {
        active--;
        return;
      }
      cycles++;
      int k = slot % rooms;
      Joiner j = new Joiner(anchorId(k), slot);
      String id = "j" + index + "-" + (counter++);
      long begin = System.nanoTime();
      BenchPeer.connect(bench.client, spec.nodes().get(0), id, j).onComplete(c -> {
        if (c.failed()) {
          refused(c.cause(), slot);
          return;
        }
        BenchPeer p = c.result();
        j.peer = p;
        joiners.add(p);
        p.join(room(k)).onComplete(w -> {
          if (w.failed()) {
            j.refused = true;
            refused(w.cause(), -1);
            p.close();
            return;
          }
          j.welcomed = System.nanoTime();
          joins++;
          if (j.welcomed >= windowStart && j.welcomed < end) {
            joinsInWindow++;
          }
          joinLatency.recordNanos(j.welcomed - begin);
          if (!BenchPeer.lists(w.result(), j.anchor)) {
            lose("anchor-missing-from-welcome");
          }
          p.send("{\"type\":\"offer\",\"to\":\"" + j.anchor + "\",\"sdp\":\"v=0 bench offer\"}");
          j.timer = vertx.setTimer(ANSWER_TIMEOUT_MS, t -> {
            lose("answer-not-received");
            j.leave();
          });
        });
      });
    }

    private void refused(Throwable cause, int retrySlot) {
      errors.merge(cause instanceof BenchPeer.Refused r ? r.code() : "connect-failed", 1L, Long::sum);
      if (retrySlot >= 0) {
        vertx.setTimer(RETRY_MS, t -> cycle(retrySlot));
      }
    }

    private void lose(String what) {
      lost.merge(what, 1L, Long::sum);
    }

    /** One joiner's cycle: from its connect to its socket's close. */
    private final class Joiner implements BenchPeer.Listener {
      final String anchor;
      final int slot;
      BenchPeer peer;
      long welcomed;
      long timer = -1;
      boolean left;
      boolean refused;

      Joiner(String anchor, int slot) {
        this.anchor = anchor;
        this.slot = slot;
      }

      @Override
      public void frame(BenchPeer p, JsonObject m, long arrived) {
        String type = m.getString("type");
        if ("answer".equals(type) && anchor.equals(m.getString("from")) && !left) {
          reach.recordNanos(arrived - welcomed);
          vertx.cancelTimer(timer);
          leave();
        } else if ("error".equals(type)) {
          errors.merge(m.getString("code", "error"), 1L, Long::sum);
        }
      }

      void leave() {
        left = true;
        peer.send("{\"type\":\"leave\"}");
      }

      @Override
      public void closed(BenchPeer p, short code) {
        joiners.remove(p);
        if (timer >= 0) {
          vertx.cancelTimer(timer);
        }
        if (!left && !refused && !closing) {
          errors.merge("close-" + code, 1L, Long::sum);
        }
        if (closing) {
          return;
        }
        if (left) {
          vertx.runOnContext(v -> cycle(slot));
        } else {
          vertx.setTimer(RETRY_MS, t -> cycle(slot));
        }
      }
    }

    /** An anchor: answers every offer, and checks that it heard of the offerer first. */
    private final class Anchor implements BenchPeer.Listener {
      @Override
      public void frame(BenchPeer p, JsonObject m, long arrived) {
        Set<String> here = present.get(p.id());
        String peer = m.getString("peer");
        switch (m.getString("type", "")) {
          case "peer-joined" -> here.add(peer);
          case "peer-left" -> here.remove(peer);
          case "offer" -> {
            String from = m.getString("from");
            if (!here.contains(from)) {
              orderViolations++;
            }
            p.send("{\"type\":\"answer\",\"to\":\"" + from + "\",\"sdp\":\"v=0 bench answer\"}");
          }
          case "error" -> errors.merge("anchor-" + m.getString("code", "error"), 1L, Long::sum);
          default -> {
          }
        }
      }

      @Override
      public void closed(BenchPeer p, short code) {
        if (!closing) {
          errors.merge("anchor-close-" + code, 1L, Long::sum);
        }
      }
    }

    Future<Totals> totals() {
      return call(() -> {
        long unannounced = present.values().stream().mapToLong(Set::size).sum();
        Map<String, Long> lostNow = new HashMap<>(lost);
        if (unannounced > 0) {
          lostNow.merge("peer-left-not-received", unannounced, Long::sum);
        }
        return Future.succeededFuture(new Totals(joins, joinsInWindow, cycles, active, unannounced,
            orderViolations, lostNow, new HashMap<>(errors), joinLatency.copy(), reach.copy()));
      });
    }

    Future<Void> closeAll() {
      return call(() -> {
        closing = true;
        List<Future<Void>> closes = new ArrayList<>();
        anchors.forEach(a -> closes.add(a.hangUp()));
        joiners.forEach(j -> closes.add(j.hangUp()));
        return Future.join(closes).mapEmpty();
      });
    }
  }
}
