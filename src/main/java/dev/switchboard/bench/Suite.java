package dev.switchboard.bench;

import dev.switchboard.registry.LocalRedis;
import java.io.IOException;
import java.io.PrintStream;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * {@code bench suite}: the standard benchmark on this machine. Starts a Redis and two nodes as
 * processes of their own (this jar, loopback only), runs every scenario against them and the
 * baseline, prints the results and the ratios the targets are stated in, and stops everything.
 *
 * <p>The {@code small} profile takes about four minutes on 2 cores; {@code large} offers more
 * load and holds more idle peers, for machines with more cores and a raised open-files limit.
 */
final class Suite {

  /** How big the standard runs are. */
  record Profile(String name, int pairs, double startRate, double maxRate, long stepWarmup, long stepDuration, long warmup,
                 long duration, int fanoutRooms, int fanoutSize, int joinConcurrency, int idlePeers, String nodeHeap,
                 double lowRate) {
    static Profile named(String name) {
      return switch (name) {
        case "small" -> new Profile(name, 100, 4000, Streams.MAX_RATE, s(1), s(3), s(2), s(10), 20, 10, 64, 20_000, "2g", LOW_RATE);
        case "large" -> new Profile(name, 1000, 20_000, Streams.MAX_RATE, s(1), s(5), s(3), s(20), 100, 10, 256, 100_000, "8g", LOW_RATE);
        case "smoke" -> new Profile(name, 4, 400, 3200, s(0.3), s(0.7), s(0.3), s(1), 2, 4, 4, 50, "512m", 200);
        default -> throw new IllegalArgumentException("--profile must be small, large or smoke, got '" + name + "'");
      };
    }

    private static long s(double seconds) {
      return (long) (seconds * 1e9);
    }
  }

  /**
   * The fixed low rate at which node CPU per message is also measured, in messages per second:
   * most clusters spend most of their time far below saturation, so this is the cost users pay.
   */
  static final double LOW_RATE = 4000;

  /** The node settings of a benchmark cluster: per-peer and per-address limits out of the way of one client machine. */
  static final List<String> NODE_SETTINGS = List.of(
      "--limits-rate", "100000", "--limits-rate-burst", "100000",
      "--limits-ip-connections", "1000000", "--limits-ip-connect-rate", "1000000",
      "--limits-ip-connect-burst", "1000000",
      "--node-soft-capacity", "1000000", "--node-hard-capacity", "1000000");

  /** The open files a process needs beyond its sockets (jars, epoll, Redis and cluster links). */
  private static final int SPARE_FILES = 500;

  private Suite() {
  }

  static int run(BenchArgs a, PrintStream out, PrintStream err) {
    Profile p = Profile.named(a.string("profile", "small"));
    String jsonFile = a.string("out", "bench-results.json");
    int loops = a.integer("loops", Math.max(2, Runtime.getRuntime().availableProcessors()), 1);
    double slo = a.integer("slo-p99", 50, 1);
    List<String> nodeJvm = List.of(a.string("node-jvm", "-Xms" + p.nodeHeap() + " -Xmx" + p.nodeHeap()).trim().split("\\s+"));
    a.rejectUnknown();
    int idlePeers = (int) Math.min(p.idlePeers(), Machine.maxOpenFiles() - SPARE_FILES);
    if (idlePeers < p.idlePeers()) {
      out.printf(Locale.ROOT, "note: open-files limit %d; idle holds %,d peers instead of %,d (raise ulimit -n)%n",
          Machine.maxOpenFiles(), idlePeers, p.idlePeers());
    }
    Path logs;
    try {
      logs = Files.createTempDirectory("switchboard-bench");
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    List<Result> results = new ArrayList<>();
    try (LocalRedis redisServer = LocalRedis.start();
         NodeProcesses nodes = NodeProcesses.start(2, redisServer.url(), nodeJvm, logs);
         RedisProbe redis = new RedisProbe(redisServer.url());
         Bench bench = new Bench(loops, redis, nodes.processes().add("redis", redisServer.pid()))) {
      out.printf(Locale.ROOT, "suite %s: Redis on %d, nodes %s (JVM %s), node and GC logs in %s%n", p.name(),
          redisServer.port(), nodes.urls(), String.join(" ", nodeJvm), logs);
      redis.measureBackground(p.name().equals("smoke") ? 1 : 5);
      List<String> cross = nodes.urls();
      // Fresh JVMs interpret before they compile: without this the first steps measure the JIT.
      out.println("warming up the nodes (relay across and within nodes, a join storm; not recorded)");
      for (boolean crossing : new boolean[] {true, false}) {
        Streams.run(bench, new Streams.Spec("relay", cross, p.pairs(), 2, false, crossing, p.startRate() * 2, 200,
            p.stepWarmup(), p.warmup() + p.stepDuration()));
      }
      JoinStorm.run(bench, new JoinStorm.Spec(cross, p.joinConcurrency(), p.stepWarmup(), p.stepDuration()));
      Streams.Spec relay = new Streams.Spec("relay", cross, p.pairs(), 2, false, true, p.startRate(), 200,
          p.stepWarmup(), p.stepDuration());

      out.println("baseline relay, finding the highest sustained rate:");
      Result baseline;
      try (BaselineRelay b = BaselineRelay.start()) {
        Streams.Spec spec = new Streams.Spec("relay", List.of(b.url()), p.pairs(), 2, false, false, p.startRate(),
            200, p.stepWarmup(), p.stepDuration());
        baseline = Streams.findMax(bench, spec, p.startRate(), p.maxRate(), slo, 3, out).label("baseline relay max");
      }
      out.println("cross-node relay, finding the highest sustained rate:");
      Result crossMax = Streams.findMax(bench, relay, p.startRate(), p.maxRate(), slo, 3, out).label("relay cross-node max");
      out.println("same-node relay, finding the highest sustained rate:");
      Result sameMax = Streams.findMax(bench, new Streams.Spec("relay", cross, p.pairs(), 2, false, false,
          p.startRate(), 200, p.stepWarmup(), p.stepDuration()), p.startRate(), p.maxRate(), slo, 3, out).label("relay same-node max");
      results.add(baseline);
      results.add(crossMax);
      results.add(sameMax);

      double half = Math.max(1, Math.round(crossMax.number("maxSustainedPerSecond") / 2));
      out.printf(Locale.ROOT, "relay at half the cross-node maximum (%,.0f/s), %ds each:%n", half, p.duration() / 1_000_000_000L);
      Result sameHalf = Streams.run(bench, new Streams.Spec("relay", cross, p.pairs(), 2, false, false, half, 200,
          p.warmup(), p.duration())).label("relay same-node half");
      out.println(sameHalf.oneLine());
      Result crossHalf = Streams.run(bench, new Streams.Spec("relay", cross, p.pairs(), 2, false, true, half, 200,
          p.warmup(), p.duration())).label("relay cross-node half");
      out.println(crossHalf.oneLine());
      results.add(sameHalf);
      results.add(crossHalf);

      out.printf(Locale.ROOT, "relay at a fixed low rate (%,.0f/s), %ds each:%n", p.lowRate(),
          p.duration() / 1_000_000_000L);
      Result sameLow = Streams.run(bench, new Streams.Spec("relay", cross, p.pairs(), 2, false, false, p.lowRate(), 200,
          p.warmup(), p.duration())).label("relay same-node low");
      out.println(sameLow.oneLine());
      Result crossLow = Streams.run(bench, new Streams.Spec("relay", cross, p.pairs(), 2, false, true, p.lowRate(), 200,
          p.warmup(), p.duration())).label("relay cross-node low");
      out.println(crossLow.oneLine());
      results.add(sameLow);
      results.add(crossLow);

      double fanoutSends = Math.max(1, Math.round(half / (p.fanoutSize() - 1)));
      out.println("fanout:");
      Result fanout = Streams.run(bench, new Streams.Spec("fanout", cross, p.fanoutRooms(), p.fanoutSize(), true,
          true, fanoutSends, 200, p.warmup(), p.duration())).label("fanout cross-node " + p.fanoutSize() + "/room");
      out.println(fanout.oneLine());
      results.add(fanout);

      out.println("join-storm:");
      Result storm = JoinStorm.run(bench, new JoinStorm.Spec(cross, p.joinConcurrency(), p.warmup(), p.duration()));
      out.println(storm.oneLine());
      results.add(storm);

      out.printf(Locale.ROOT, "idle: %,d peers on one node%n", idlePeers);
      Result idle = Idle.run(bench, new Idle.Spec(cross.get(0), idlePeers, 10, p.warmup() + p.duration() / 2,
          nodes.processes().pid("node-1")));
      out.println(idle.oneLine());
      results.add(idle);

      BenchCommand.report(results, jsonFile, out);
      out.print(Targets.summary(baseline, crossMax, sameMax, sameHalf, crossHalf, sameLow, crossLow, storm, idle,
          idlePeers < p.idlePeers() ? "open-files limit " + Machine.maxOpenFiles() : null));
      out.println("JSON written to " + jsonFile);
      return 0;
    } catch (IOException e) {
      err.println("switchboard bench suite: could not start Redis: " + e.getMessage());
      return 1;
    }
  }

  /**
   * The two node processes of a suite: this jar (this class path), loopback, a cluster name of
   * their own, their output and GC log in the suite's log directory.
   */
  static final class NodeProcesses implements AutoCloseable {
    private final List<Process> processes = new ArrayList<>();
    private final List<String> urls = new ArrayList<>();
    private final Processes accounting = new Processes();

    static NodeProcesses start(int count, String redisUrl, List<String> jvmFlags, Path logs) {
      NodeProcesses n = new NodeProcesses();
      String cluster = "bench-" + Long.toString(System.nanoTime() % 1_000_000_000L, 36);
      int clusterPort = 30_000 + ThreadLocalRandom.current().nextInt(1000) * 20;
      try {
        for (int i = 1; i <= count; i++) {
          int port = freePort();
          List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
          cmd.addAll(jvmFlags);
          cmd.addAll(List.of("-Xlog:gc:file=" + logs.resolve("node-" + i + "-gc.log"),
              "-cp", System.getProperty("java.class.path"), "dev.switchboard.Main",
              "--http-host", "127.0.0.1", "--http-port", Integer.toString(port), "--node-id", "bench-" + i,
              "--redis-url", redisUrl, "--cluster-name", cluster, "--cluster-port", Integer.toString(clusterPort),
              "--cluster-members", "127.0.0.1:" + clusterPort));
          cmd.addAll(NODE_SETTINGS);
          ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
              .redirectOutput(logs.resolve("node-" + i + ".log").toFile());
          pb.environment().keySet().removeIf(k -> k.startsWith("SWITCHBOARD_"));
          Process process = pb.start();
          n.processes.add(process);
          n.accounting.add("node-" + i, process.pid());
          n.urls.add("ws://127.0.0.1:" + port + "/ws");
          awaitReady(process, port, logs.resolve("node-" + i + ".log"));
        }
      } catch (IOException | RuntimeException e) {
        n.close();
        throw new IllegalStateException("a benchmark node did not start: " + e.getMessage(), e);
      }
      return n;
    }

    List<String> urls() {
      return urls;
    }

    Processes processes() {
      return accounting;
    }

    private static void awaitReady(Process p, int port, Path log) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (System.nanoTime() < deadline) {
        if (!p.isAlive()) {
          throw new IllegalStateException("node on port " + port + " exited; see " + log);
        }
        try {
          HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + "/ready").toURL()
              .openConnection();
          c.setConnectTimeout(500);
          if (c.getResponseCode() == 200) {
            return;
          }
        } catch (IOException notYet) {
          // not listening yet
        }
        Bench.sleepUntil(System.nanoTime() + 200_000_000L);
      }
      throw new IllegalStateException("node on port " + port + " was not ready within 60 s; see " + log);
    }

    private static int freePort() throws IOException {
      try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        return s.getLocalPort();
      }
    }

    @Override
    public void close() {
      for (Process p : processes) {
        p.destroy();
      }
      for (Process p : processes) {
        try {
          if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          p.destroyForcibly();
        }
      }
    }
  }
}
