package dev.switchboard.bench;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The {@code idle} scenario: {@code peers} joined peers that then do nothing but answer the
 * node's pings, all on one node, and what each one costs that node: live heap after a full GC,
 * and resident memory, both as the growth over the node's idle reading divided by the peer count.
 *
 * <p>The heap figure needs the node's pid (a local node): the bench runs {@code jcmd <pid>
 * GC.run} before each reading so only live objects count. Without it the heap growth includes
 * garbage not yet collected and is an upper bound.
 */
final class Idle {

  record Spec(String node, int peers, int roomSize, long holdNanos, long nodePid) {
    JsonObject json() {
      return new JsonObject().put("peers", peers).put("roomSize", roomSize).put("holdSeconds", holdNanos / 1e9)
          .put("gcBeforeReading", nodePid >= 0);
    }
  }

  private Idle() {
  }

  static Result run(Bench bench, Spec spec) {
    String run = Long.toString(System.nanoTime() % 1_000_000_000L, 36);
    NodeMemory before = NodeMemory.read(spec.node(), spec.nodePid());
    List<IdleShard> shards = bench.deploy(i -> new IdleShard(bench, spec, i, run));
    try {
      long begin = System.nanoTime();
      Future.all(shards.stream().map(IdleShard::connectAll).toList()).await();
      double connectSeconds = (System.nanoTime() - begin) / 1e9;
      Bench.sleepUntil(System.nanoTime() + spec.holdNanos());
      NodeMemory after = NodeMemory.read(spec.node(), spec.nodePid());
      List<IdleShard.Totals> all = Future.all(shards.stream().map(IdleShard::totals).toList()).await().list();
      long joined = all.stream().mapToLong(IdleShard.Totals::joined).sum();
      long closed = all.stream().mapToLong(IdleShard.Totals::closed).sum();
      Map<String, Long> errors = new HashMap<>();
      Latency join = new Latency();
      for (IdleShard.Totals t : all) {
        t.errors().forEach((k, v) -> errors.merge(k, v, Long::sum));
        join.add(t.join());
      }
      Result r = new Result("idle", spec.json());
      r.figure("joined", joined);
      r.figure("closedWhileIdle", closed);
      r.figure("joinsPerSecond", Math.round(joined / connectSeconds));
      r.figure("nodePeersBefore", before.peers()).figure("nodePeersAfter", after.peers());
      r.figure("heapBytesBefore", before.heap()).figure("heapBytesAfter", after.heap());
      r.figure("rssBytesBefore", before.rss()).figure("rssBytesAfter", after.rss());
      long added = after.peers() - before.peers();
      if (added > 0) {
        r.figure("heapBytesPerPeer", Math.round((after.heap() - before.heap()) / (double) added));
        r.figure("rssBytesPerPeer", Math.round((after.rss() - before.rss()) / (double) added));
      }
      r.latency("join", join);
      r.errors(errors);
      return r;
    } finally {
      Future.join(shards.stream().map(IdleShard::closeAll).toList()).await();
      bench.undeployAll();
    }
  }

  /** What a node reports of itself at {@code GET /metrics}, read after a full GC when its pid is known. */
  record NodeMemory(long heap, long rss, long peers) {

    static NodeMemory read(String wsUrl, long pid) {
      if (pid >= 0) {
        fullGc(pid);
      }
      String text = get(metricsUrl(wsUrl));
      return new NodeMemory(gauge(text, "jvm_memory_used_bytes", "area=\"heap\""),
          gauge(text, "process_resident_memory_bytes", ""), gauge(text, "switchboard_peers", ""));
    }

    /** {@code http://host:port/metrics} for {@code ws://host:port/ws}. */
    static String metricsUrl(String wsUrl) {
      URI u = URI.create(wsUrl);
      String scheme = "wss".equals(u.getScheme()) ? "https" : "http";
      return scheme + "://" + u.getRawAuthority() + "/metrics";
    }

    /**
     * The sum of the samples of metric {@code name} whose labels contain {@code label} (empty: any),
     * or -1 if there is none: the heap is one series per memory pool ({@code area="heap",id=...}).
     */
    static long gauge(String prometheusText, String name, String label) {
      double sum = 0;
      boolean found = false;
      for (String line : prometheusText.split("\n")) {
        boolean named = line.startsWith(name + " ") || line.startsWith(name + "{");
        int value = line.lastIndexOf(' ');
        if (named && value > 0 && line.substring(0, value).contains(label)) {
          sum += Double.parseDouble(line.substring(value + 1).trim());
          found = true;
        }
      }
      return found ? (long) sum : -1;
    }

    private static String get(String url) {
      try {
        HttpURLConnection c = (HttpURLConnection) URI.create(url).toURL().openConnection();
        c.setConnectTimeout(5000);
        c.setReadTimeout(10_000);
        try (InputStream in = c.getInputStream()) {
          return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
      } catch (IOException e) {
        throw new IllegalStateException("could not read " + url + ": " + e.getMessage(), e);
      }
    }

    private static void fullGc(long pid) {
      Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
      try {
        Process p = new ProcessBuilder(Files.isExecutable(jcmd) ? jcmd.toString() : "jcmd", Long.toString(pid), "GC.run")
            .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
          throw new IllegalStateException("jcmd " + pid + " GC.run failed");
        }
      } catch (IOException e) {
        throw new IllegalStateException("could not run jcmd (a JDK tool) to collect the node's heap: " + e.getMessage(), e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
    }
  }

  /** One event loop's idle peers. */
  private static final class IdleShard extends Shard implements BenchPeer.Listener {

    record Totals(long joined, long closed, Map<String, Long> errors, Latency join) {
    }

    private final Bench bench;
    private final Spec spec;
    private final int index;
    private final String run;
    private final List<BenchPeer> peers = new ArrayList<>();
    private final Map<String, Long> errors = new HashMap<>();
    private final Latency join = new Latency();
    private long closed;
    private boolean closing;

    IdleShard(Bench bench, Spec spec, int index, String run) {
      this.bench = bench;
      this.spec = spec;
      this.index = index;
      this.run = run;
    }

    @Override
    public Future<?> start() {
      return Future.succeededFuture();
    }

    /** Peer n (n mod loops == this shard) joins room n / roomSize; refusals are counted, not fatal. */
    Future<Void> connectAll() {
      return call(() -> {
        int mine = spec.peers() / bench.loops + (index < spec.peers() % bench.loops ? 1 : 0);
        return Connects.inOrder(mine, Bench.CONNECTS_IN_FLIGHT, i -> {
          int n = i * bench.loops + index;
          long begin = System.nanoTime();
          return BenchPeer.connect(bench.client, spec.node(), "idle-" + n, this)
              .compose(p -> p.join("idle-" + run + "-" + (n / spec.roomSize())).map(w -> {
                join.recordNanos(System.nanoTime() - begin);
                peers.add(p);
                return (Void) null;
              }))
              .recover(e -> {
                errors.merge(e instanceof BenchPeer.Refused r ? r.code() : "connect-failed", 1L, Long::sum);
                return Future.succeededFuture();
              });
        });
      });
    }

    @Override
    public void frame(BenchPeer peer, JsonObject message, long arrivedNanos) {
      if ("error".equals(message.getString("type"))) {
        errors.merge(message.getString("code", "error"), 1L, Long::sum);
      }
    }

    @Override
    public void closed(BenchPeer peer, short code) {
      if (!closing) {
        closed++;
        errors.merge("close-" + code, 1L, Long::sum);
      }
    }

    Future<Totals> totals() {
      return call(() -> Future.succeededFuture(new Totals(peers.size(), closed, new HashMap<>(errors), join.copy())));
    }

    Future<Void> closeAll() {
      return call(() -> {
        closing = true;
        return Future.join(peers.stream().map(BenchPeer::hangUp).toList()).mapEmpty();
      });
    }
  }
}
