package dev.switchboard.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.slf4j.LoggerFactory;

/**
 * {@code java -jar switchboard.jar bench <scenario> [options]}: a load generator speaking
 * protocol v1 to running nodes (or to the built-in baseline relay), printing a table and JSON.
 * {@code bench suite} starts its own Redis and two-node cluster and runs the standard set.
 * See docs/benchmarks.md for the method and the figures.
 */
public final class BenchCommand {

  public static final String USAGE = """
      usage: switchboard bench <scenario> [options]
        relay       pairs of peers exchanging messages          --pairs 100 --rate 20000 [--same] [--find-max] [--baseline]
        fanout      room-wide messages in rooms of N peers       --rooms 20 --room-size 10 --rate 1000 [--same]
        join-storm  peers joining and leaving as fast as possible --concurrency 64
        idle        N joined idle peers on the first node        --peers 5000 --room-size 10 [--node-pid PID]
        baseline    the relay scenario against a bare in-process Vert.x relay (no cluster)
        baseline-server  runs that bare relay as a process of its own until stopped  [--port 0]
                    (prints its URL and pid; measure its CPU with relay --same --nodes URL --node-pids PID)
        suite       starts Redis and 2 nodes here and runs all of the above [--profile small|large|smoke] [--out FILE] [--node-jvm "-Xmx2g ..."]
      common: --nodes ws://127.0.0.1:8080/ws,ws://127.0.0.1:8081/ws  --warmup 5s --duration 10s --size 200
              --redis-url redis://127.0.0.1:6379 (counts Redis commands)  --loops N  --json FILE  --slo-p99 50
              --node-pids PID,PID (records the nodes' CPU, and CPU per message)
      """;

  private static final Set<String> FLAGS = Set.of("same", "cross", "find-max", "baseline");

  private BenchCommand() {
  }

  /**
   * Quiets the WebSocket client's WARN for each connection it drops while a run closes thousands
   * at its end: that is the bench tidying up, not news. For the bench's own process only (called
   * by {@code Main}), never where nodes share the JVM.
   */
  public static void quietClientLogs() {
    if (LoggerFactory.getLogger(EVICTION_LOGGER) instanceof ch.qos.logback.classic.Logger l) {
      l.setLevel(ch.qos.logback.classic.Level.ERROR);
    }
  }

  private static final String EVICTION_LOGGER = "io.vertx.core.http.impl.HttpClientConnection";

  /** Runs {@code bench ...} ({@code args[0]} is "bench"); returns the exit code. */
  public static int run(List<String> args, PrintStream out, PrintStream err) {
    if (args.size() < 2 || args.get(1).equals("--help")) {
      err.print(USAGE);
      return args.size() < 2 ? 2 : 0;
    }
    String scenario = args.get(1);
    BenchArgs a;
    try {
      a = BenchArgs.parse(args.subList(2, args.size()), FLAGS);
      if (scenario.equals("suite")) {
        return Suite.run(a, out, err);
      }
      if (scenario.equals("baseline-server")) {
        return baselineServer(a, out);
      }
      String json = a.string("json", null);
      List<Result> results = runScenario(scenario, a, out);
      report(results, json, out);
      return 0;
    } catch (IllegalArgumentException e) {
      err.println("switchboard bench: " + e.getMessage());
      err.print(USAGE);
      return 2;
    } catch (RuntimeException e) {
      err.println("switchboard bench: the run failed: " + e);
      return 1;
    }
  }

  /**
   * The bare relay in a process of its own, so that its CPU per message can be read like a
   * node's: the floor under the nodes' figures on the same machine (docs/benchmarks.md).
   */
  private static int baselineServer(BenchArgs a, PrintStream out) {
    int port = a.integer("port", 0, 0);
    a.rejectUnknown();
    BaselineRelay relay = port == 0 ? BaselineRelay.start() : BaselineRelay.start(port);
    Runtime.getRuntime().addShutdownHook(new Thread(relay::close, "baseline-stop"));
    out.println(relay.url() + " pid " + ProcessHandle.current().pid());
    out.flush();
    try {
      Thread.currentThread().join(); // until SIGTERM or Ctrl-C
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 0;
  }

  private static List<Result> runScenario(String scenario, BenchArgs a, PrintStream out) {
    List<String> nodes = a.list("nodes", "ws://127.0.0.1:8080/ws");
    int loops = a.integer("loops", Math.max(2, Runtime.getRuntime().availableProcessors()), 1);
    String redisUrl = a.string("redis-url", null);
    long warmup = a.duration("warmup", "5s").toNanos();
    long duration = a.duration("duration", "10s").toNanos();
    int size = a.integer("size", 200, 0);
    double slo = a.integer("slo-p99", 50, 1);
    // With the nodes' process ids, each result records their CPU, and CPU per message.
    Processes processes = new Processes();
    List<String> pids = a.list("node-pids", "");
    for (int i = 0; i < pids.size(); i++) {
      try {
        processes.add("node-" + (i + 1), Long.parseLong(pids.get(i)));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--node-pids takes process ids, comma-separated; got " + pids.get(i));
      }
    }
    List<Result> results = new ArrayList<>();
    try (RedisProbe redis = redisUrl == null ? null : new RedisProbe(redisUrl);
         Bench bench = new Bench(loops, redis, processes)) {
      switch (scenario) {
        case "relay", "baseline" -> {
          boolean same = a.flag("same");
          a.flag("cross");
          boolean findMax = a.flag("find-max");
          boolean withBaseline = a.flag("baseline") || scenario.equals("baseline");
          int pairs = a.integer("pairs", 100, 1);
          double rate = a.integer("rate", 20_000, 1);
          a.rejectUnknown();
          if (redis != null) {
            redis.measureBackground(3);
          }
          Streams.Spec spec = new Streams.Spec("relay", nodes, pairs, 2, false, !same && nodes.size() > 1, rate, size,
              warmup, duration);
          if (!scenario.equals("baseline")) {
            results.add(relay(bench, spec, findMax, rate, slo, out).label(same ? "relay same-node" : "relay cross-node"));
          }
          if (withBaseline) {
            try (BaselineRelay baseline = BaselineRelay.start()) {
              Streams.Spec b = new Streams.Spec("relay", List.of(baseline.url()), pairs, 2, false, false, rate, size,
                  warmup, duration);
              results.add(relay(bench, b, findMax, rate, slo, out).label("baseline relay"));
            }
          }
        }
        case "fanout" -> {
          boolean same = a.flag("same");
          a.flag("cross");
          int rooms = a.integer("rooms", 20, 1);
          int roomSize = a.integer("room-size", 10, 2);
          double rate = a.integer("rate", 1000, 1);
          a.rejectUnknown();
          if (redis != null) {
            redis.measureBackground(3);
          }
          results.add(Streams.run(bench, new Streams.Spec("fanout", nodes, rooms, roomSize, true,
              !same && nodes.size() > 1, rate, size, warmup, duration)).label("fanout " + roomSize + "/room"));
        }
        case "join-storm" -> {
          int concurrency = a.integer("concurrency", 64, 1);
          a.rejectUnknown();
          if (redis != null) {
            redis.measureBackground(3);
          }
          results.add(JoinStorm.run(bench, new JoinStorm.Spec(nodes, concurrency, warmup, duration)));
        }
        case "idle" -> {
          int peers = a.integer("peers", 5000, 1);
          int roomSize = a.integer("room-size", 10, 1);
          long hold = a.duration("hold", "5s").toNanos();
          long pid = a.integer("node-pid", -1, -1);
          a.rejectUnknown();
          results.add(Idle.run(bench, new Idle.Spec(nodes.get(0), peers, roomSize, hold, pid)));
        }
        default -> throw new IllegalArgumentException("unknown scenario '" + scenario + "'");
      }
    }
    return results;
  }

  static Result relay(Bench bench, Streams.Spec spec, boolean findMax, double rate, double slo, PrintStream out) {
    return findMax ? Streams.findMax(bench, spec, rate, Streams.MAX_RATE, slo, 3, out) : Streams.run(bench, spec);
  }

  /** Prints the table, each result's other figures, and the JSON; writes the JSON to {@code jsonFile} if given. */
  static void report(List<Result> results, String jsonFile, PrintStream out) {
    String table = Result.table(results);
    if (!table.isEmpty()) {
      out.println();
      out.print(table);
    }
    for (Result r : results) {
      if (r.scenario().equals("join-storm") || r.scenario().equals("idle")) {
        out.println(r.oneLine());
      }
    }
    Result relay = null;
    Result baseline = null;
    for (Result r : results) {
      if (r.label().equals("baseline relay")) {
        baseline = r;
      } else if (r.scenario().equals("relay")) {
        relay = r;
      }
    }
    if (relay != null && baseline != null) {
      String key = Double.isNaN(relay.number("maxSustainedPerSecond")) ? "deliveredPerSecond" : "maxSustainedPerSecond";
      out.printf(Locale.ROOT, "%n%s ÷ baseline, %s: %.2f%n", relay.label(), key,
          relay.number(key) / baseline.number(key));
    }
    JsonArray all = new JsonArray();
    results.forEach(r -> all.add(r.json()));
    JsonObject doc = new JsonObject().put("machine", Machine.describe()).put("results", all);
    out.println();
    out.println(doc.encodePrettily());
    if (jsonFile != null) {
      try {
        Files.writeString(Path.of(jsonFile), doc.encodePrettily());
      } catch (IOException e) {
        throw new IllegalStateException("could not write " + jsonFile + ": " + e.getMessage(), e);
      }
    }
  }
}
