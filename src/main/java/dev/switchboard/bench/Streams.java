package dev.switchboard.bench;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code relay} and {@code fanout} scenarios: peers in rooms, every peer sending
 * {@code message}s at a fixed offered rate, every receiver timing each message from the moment
 * it was <em>meant</em> to be sent. A sender that falls behind (a late timer, a slow loop) still
 * stamps each message with its intended time, so the delay it suffered is counted: the
 * measurement does not suffer from coordinated omission.
 *
 * <p>{@code relay}: rooms of two, each peer sending to the other ({@code message} with
 * {@code to}); {@code cross} puts the two on different nodes, otherwise both are on one node.
 * {@code fanout}: rooms of {@code roomSize}, each peer sending room-wide messages that every
 * other member receives; {@code cross} spreads each room over the nodes.
 */
final class Streams {

  /** What one run offers. {@code rate} is messages sent per second by all peers together. */
  record Spec(String scenario, List<String> nodes, int rooms, int roomSize, boolean roomWide, boolean cross,
              double rate, int payloadBytes, long warmupNanos, long durationNanos) {

    Spec withRate(double r) {
      return new Spec(scenario, nodes, rooms, roomSize, roomWide, cross, r, payloadBytes, warmupNanos, durationNanos);
    }

    /** Deliveries each sent message should cause. */
    int receivers() {
      return roomWide ? roomSize - 1 : 1;
    }

    JsonObject json() {
      return new JsonObject().put("nodes", nodes.size()).put("rooms", rooms).put("roomSize", roomSize)
          .put("placement", cross ? "cross-node" : "same-node").put("offeredSendsPerSecond", Math.round(rate))
          .put("payloadBytes", payloadBytes).put("warmupSeconds", warmupNanos / 1e9)
          .put("durationSeconds", durationNanos / 1e9);
    }
  }

  /** The highest rate a search tries unless told otherwise: far above what one load generator can offer. */
  static final double MAX_RATE = 2_000_000;

  /** The pause after a failed step of a search, for the nodes to drain and collect. */
  private static final long RECOVERY_NANOS = 2_000_000_000L;

  /** How long a run waits after its last send for messages still in flight. */
  private static final long DRAIN_NANOS = 3_000_000_000L;

  private Streams() {
  }

  /** Runs {@code spec} once: connect and join every peer, offer the load, drain, report. */
  static Result run(Bench bench, Spec spec) {
    String run = "r" + Long.toString(System.nanoTime() % 1_000_000_000L, 36);
    List<StreamShard> shards = bench.deploy(i -> new StreamShard(bench, spec, i, run));
    try {
      Future.all(shards.stream().map(StreamShard::connectAll).toList()).await();
      Map<String, Double> cpuStart;
      Map<String, Long> redisStart;
      long t0 = System.nanoTime() + 50_000_000L;
      long windowStart = t0 + spec.warmupNanos();
      long windowEnd = windowStart + spec.durationNanos();
      Future.all(shards.stream().map(s -> s.start(t0, windowStart, windowEnd)).toList()).await();
      Bench.sleepUntil(windowStart);
      cpuStart = bench.processes.cpuSeconds();
      redisStart = bench.redis == null ? null : bench.redis.calls();
      Bench.sleepUntil(windowEnd);
      Map<String, Double> cpuEnd = bench.processes.cpuSeconds();
      Map<String, Long> redisEnd = bench.redis == null ? null : bench.redis.calls();
      double seconds = spec.durationNanos() / 1e9;
      long drainUntil = System.nanoTime() + DRAIN_NANOS;
      StreamShard.Totals totals;
      do {
        Bench.sleepUntil(System.nanoTime() + 50_000_000L);
        totals = StreamShard.Totals.sum(Future.all(shards.stream().map(StreamShard::totals).toList()).await().list());
      } while (totals.received() < totals.expected() && System.nanoTime() < drainUntil);
      Result r = new Result(spec.scenario(), spec.json());
      r.figure("offeredPerSecond", Math.round(spec.rate() * spec.receivers()));
      r.figure("deliveredPerSecond", Math.round(totals.deliveredInWindow() / seconds));
      r.figure("lost", totals.expected() - totals.received());
      r.figure("reordered", totals.reordered());
      r.figure("clientBacklogged", totals.backlogged());
      r.latency("latency", totals.latency());
      r.latency("join", totals.joins());
      r.errors(totals.errors());
      r.cpu(Processes.percentOfCore(cpuStart, cpuEnd, seconds));
      r.figure("nodeCpuMicrosPerMessage", Processes.microsPerUnit(cpuStart, cpuEnd, "node-",
          totals.deliveredInWindow()));
      if (redisStart != null) {
        r.redis(bench.redis, RedisProbe.Delta.between(redisStart, redisEnd, seconds), totals.deliveredInWindow(),
            "perMessage");
      }
      return r;
    } finally {
      Future.join(shards.stream().map(StreamShard::closeAll).toList()).await();
      bench.undeployAll();
    }
  }

  /**
   * Finds the highest offered rate the target sustains: every message delivered, at least 95% of
   * the offered rate delivered inside the window, and p99 within {@code sloP99Ms}. Doubles the
   * rate from {@code startRate} until a step fails (or {@code maxRate} passed), then bisects
   * {@code bisections} times.
   * Returns every step; the last passing one is marked {@code best}.
   */
  static Result findMax(Bench bench, Spec spec, double startRate, double maxRate, double sloP99Ms, int bisections,
                        PrintStream progress) {
    List<Result> steps = new ArrayList<>();
    Result best = null;
    double low = 0;
    double high = 0;
    double rate = startRate;
    int bisected = 0;
    while (true) {
      Result step = run(bench, spec.withRate(rate));
      steps.add(step);
      progress.println(step.oneLine());
      if (step.sustained(sloP99Ms)) {
        best = step;
        low = rate;
      } else {
        high = rate;
        // An overloaded step leaves queues and garbage behind; the next step must not measure them.
        Bench.sleepUntil(System.nanoTime() + RECOVERY_NANOS);
      }
      if (high == 0 && rate * 2 <= maxRate) {
        rate *= 2;
      } else if (high == 0 || low == 0 || bisected == bisections) {
        break;
      } else {
        bisected++;
        rate = Math.round((low + high) / 2);
      }
    }
    Result result = best != null ? best : steps.get(steps.size() - 1);
    result.figure("maxSustainedPerSecond", best == null ? 0 : best.number("deliveredPerSecond"));
    result.figure("sloP99Ms", sloP99Ms);
    result.figure("steps", steps.size());
    return result;
  }

  /** A sender's bookkeeping: which message is next and how its frames start. */
  private static final class Sender {
    final BenchPeer peer;
    final String head;
    final long phaseNanos;
    final double intervalNanos;
    final Map<Integer, Long> lastSeqFrom = new HashMap<>();
    long seq;

    Sender(BenchPeer peer, String head, long phaseNanos, double intervalNanos) {
      this.peer = peer;
      this.head = head;
      this.phaseNanos = phaseNanos;
      this.intervalNanos = intervalNanos;
    }
  }

  /** One event loop's rooms. */
  private static final class StreamShard extends Shard implements BenchPeer.Listener {

    record Totals(long sent, long expected, long received, long deliveredInWindow, long reordered,
                  long backlogged, Latency latency, Latency joins, Map<String, Long> errors) {
      static Totals sum(List<Totals> all) {
        Latency latency = new Latency();
        Latency joins = new Latency();
        Map<String, Long> errors = new HashMap<>();
        long sent = 0;
        long expected = 0;
        long received = 0;
        long delivered = 0;
        long reordered = 0;
        long backlogged = 0;
        for (Totals t : all) {
          sent += t.sent;
          expected += t.expected;
          received += t.received;
          delivered += t.deliveredInWindow;
          reordered += t.reordered;
          backlogged += t.backlogged;
          latency.add(t.latency);
          joins.add(t.joins);
          t.errors.forEach((k, v) -> errors.merge(k, v, Long::sum));
        }
        return new Totals(sent, expected, received, delivered, reordered, backlogged, latency, joins, errors);
      }
    }

    private final Bench bench;
    private final Spec spec;
    private final int index;
    /** Room names of this run: a run's peers may still be leaving when the next one joins. */
    private final String run;
    private final List<Sender> senders = new ArrayList<>();
    private final Map<BenchPeer, Sender> byPeer = new HashMap<>();
    private final Latency latency = new Latency();
    private final Latency joins = new Latency();
    private final Map<String, Long> errors = new HashMap<>();
    private final String padding;
    private long windowStart;
    private long windowEnd;
    private long sent;
    private long received;
    private long deliveredInWindow;
    private long reordered;
    private long backlogged;
    private boolean closing;
    private long timer = -1;

    StreamShard(Bench bench, Spec spec, int index, String run) {
      this.run = run;
      this.bench = bench;
      this.spec = spec;
      this.index = index;
      this.padding = "x".repeat(spec.payloadBytes());
    }

    @Override
    public Future<?> start() {
      return Future.succeededFuture();
    }

    /** Connects and joins this shard's rooms (room r belongs to shard r mod loops). */
    Future<Void> connectAll() {
      return call(() -> {
        List<String[]> plan = new ArrayList<>();
        int nodes = spec.nodes().size();
        for (int room = index; room < spec.rooms(); room += bench.loops) {
          for (int member = 0; member < spec.roomSize(); member++) {
            int node = spec.cross() ? member % nodes : room % nodes;
            plan.add(new String[] {spec.nodes().get(node), run + "-" + room, "p" + room + "-" + member});
          }
        }
        return Connects.inOrder(plan.size(), Bench.CONNECTS_IN_FLIGHT, i -> join(plan.get(i)));
      });
    }

    private Future<Void> join(String[] where) {
      long begin = System.nanoTime();
      return BenchPeer.connect(bench.client, where[0], where[2], this)
          .compose(p -> p.join(where[1]).map(w -> {
            joins.recordNanos(System.nanoTime() - begin);
            addSender(p, where);
            return (Void) null;
          }));
    }

    private void addSender(BenchPeer p, String[] where) {
      String room = where[1].substring(where[1].indexOf('-') + 1);
      int member = Integer.parseInt(where[2].substring(where[2].indexOf('-') + 1));
      int global = Integer.parseInt(room) * spec.roomSize() + member;
      String to = spec.roomWide() ? null : "p" + room + "-" + (1 - member);
      String head = "{\"type\":\"message\"" + (to == null ? "" : ",\"to\":\"" + to + "\"")
          + ",\"data\":{\"f\":" + global + ",\"s\":";
      double interval = 1e9 / (spec.rate() / (spec.rooms() * (double) spec.roomSize()));
      long phase = (long) (interval * ((global * 0.618034) % 1.0));
      Sender s = new Sender(p, head, phase, interval);
      senders.add(s);
      byPeer.put(p, s);
    }

    Future<Void> start(long t0, long windowStart, long windowEnd) {
      return call(() -> {
        this.windowStart = windowStart;
        this.windowEnd = windowEnd;
        timer = vertx.setPeriodic(1, id -> tick(t0, windowEnd));
        return Future.succeededFuture();
      });
    }

    private void tick(long t0, long end) {
      long now = Math.min(System.nanoTime(), end);
      for (Sender s : senders) {
        long due = now < t0 + s.phaseNanos ? 0 : (long) ((now - t0 - s.phaseNanos) / s.intervalNanos) + 1;
        while (s.seq < due) {
          long intended = t0 + s.phaseNanos + (long) (s.seq * s.intervalNanos);
          if (s.peer.backlogged()) {
            backlogged++;
          }
          s.peer.send(s.head + s.seq + ",\"t\":" + intended + ",\"p\":\"" + padding + "\"}}");
          s.seq++;
          sent++;
        }
      }
      if (System.nanoTime() >= end) {
        vertx.cancelTimer(timer);
      }
    }

    @Override
    public void frame(BenchPeer peer, JsonObject m, long arrived) {
      String type = m.getString("type");
      if ("message".equals(type)) {
        JsonObject d = m.getJsonObject("data");
        long intended = d.getLong("t");
        long seq = d.getLong("s");
        received++;
        if (intended >= windowStart && intended < windowEnd) {
          latency.recordNanos(arrived - intended);
        }
        if (arrived >= windowStart && arrived < windowEnd) {
          deliveredInWindow++;
        }
        Long last = byPeer.get(peer).lastSeqFrom.put(d.getInteger("f"), seq);
        if (last != null && seq <= last) {
          reordered++;
        }
      } else if ("error".equals(type)) {
        errors.merge(m.getString("code", "error"), 1L, Long::sum);
      }
    }

    @Override
    public void closed(BenchPeer peer, short code) {
      if (!closing) {
        errors.merge("close-" + code, 1L, Long::sum);
      }
    }

    Future<Totals> totals() {
      return call(() -> Future.succeededFuture(new Totals(sent, sent * spec.receivers(), received,
          deliveredInWindow, reordered, backlogged, latency.copy(), joins.copy(), new HashMap<>(errors))));
    }

    Future<Void> closeAll() {
      return call(() -> {
        closing = true;
        if (timer >= 0) {
          vertx.cancelTimer(timer);
        }
        return Future.join(senders.stream().map(s -> s.peer.hangUp()).toList()).mapEmpty();
      });
    }
  }
}
