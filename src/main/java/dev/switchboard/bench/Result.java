package dev.switchboard.bench;

import dev.switchboard.ops.Table;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What one scenario run measured, as JSON (every figure, for machines and for the record) and
 * as a table row (the figures people compare). Latencies are in milliseconds.
 */
final class Result {

  private final String scenario;
  private final JsonObject json = new JsonObject();
  private final JsonObject figures = new JsonObject();
  private final Map<String, Long> errors = new TreeMap<>();

  Result(String scenario, JsonObject params) {
    this.scenario = scenario;
    json.put("scenario", scenario).put("params", params).put("figures", figures);
  }

  String scenario() {
    return scenario;
  }

  Result label(String label) {
    json.put("label", label);
    return this;
  }

  String label() {
    return json.getString("label", scenario);
  }

  Result figure(String name, Object value) {
    figures.put(name, value);
    return this;
  }

  double number(String name) {
    Number n = (Number) figures.getValue(name);
    return n == null ? Double.NaN : n.doubleValue();
  }

  Result latency(String name, Latency latency) {
    json.put(name, latency.json());
    return this;
  }

  /** Latency {@code p} (p50, p99, ...) of {@code name}, in milliseconds; NaN when not measured. */
  double latencyMs(String name, String p) {
    JsonObject l = json.getJsonObject(name);
    return l == null ? Double.NaN : l.getDouble(p);
  }

  Result errors(Map<String, Long> byCode) {
    errors.putAll(byCode);
    JsonObject e = new JsonObject();
    errors.forEach(e::put);
    json.put("errors", e);
    return this;
  }

  long errorCount() {
    return errors.values().stream().mapToLong(Long::longValue).sum();
  }

  Result cpu(JsonObject percentOfCore) {
    json.put("cpuPercentOfOneCore", percentOfCore);
    return this;
  }

  /** Records the Redis commands of the window and what each of {@code count} units (messages, joins) cost. */
  Result redis(RedisProbe probe, RedisProbe.Delta window, long count, String per) {
    JsonObject r = new JsonObject().put("commands", window.json()).put("total", window.total());
    if (probe.background() != null) {
      double net = window.net(probe.background());
      r.put("backgroundPerSecond", Math.round(probe.background().total() / probe.background().seconds() * 10) / 10.0)
          .put("netOfBackground", Math.round(net * 10) / 10.0);
      if (count > 0) {
        r.put(per, Math.round(Math.max(0, net) / count * 1000) / 1000.0);
      }
    }
    json.put("redis", r);
    return this;
  }

  /** Redis commands per unit ({@code perMessage}, {@code perJoin}), or NaN when Redis was not probed. */
  double redisPer(String per) {
    JsonObject r = json.getJsonObject("redis");
    return r == null || r.getValue(per) == null ? Double.NaN : r.getDouble(per);
  }

  /**
   * A stream step the target kept up with: nothing lost or refused, at least 95% of the offered
   * deliveries inside the window, and p99 within {@code sloP99Ms}.
   */
  boolean sustained(double sloP99Ms) {
    return number("lost") == 0 && errorCount() == 0
        && number("deliveredPerSecond") >= 0.95 * number("offeredPerSecond")
        && latencyMs("latency", "p99") <= sloP99Ms;
  }

  JsonObject json() {
    return json;
  }

  /** One line for people: the stream figures, or a join storm's or an idle run's. */
  String oneLine() {
    if (scenario.equals("join-storm")) {
      return String.format(Locale.ROOT, "  %-24s %,9.0f joins/s  join p50 %7.3f  p99 %8.3f ms  reachable p50 %7.3f  p99 %8.3f ms"
          + "  lost %.0f  errors %d", label(), number("joinsPerSecond"), latencyMs("join", "p50"), latencyMs("join", "p99"),
          latencyMs("reachable", "p50"), latencyMs("reachable", "p99"), number("lost"), errorCount());
    }
    if (scenario.equals("idle")) {
      return String.format(Locale.ROOT, "  %-24s %,9.0f peers joined  heap %,7.0f B/peer  RSS %,7.0f B/peer"
          + "  closed while idle %.0f  errors %d", label(), number("joined"), number("heapBytesPerPeer"),
          number("rssBytesPerPeer"), number("closedWhileIdle"), errorCount());
    }
    return String.format(Locale.ROOT, "  %-24s offered %,9.0f/s  delivered %,9.0f/s  p50 %7.3f  p99 %8.3f ms  lost %.0f  errors %d",
        label(), number("offeredPerSecond"), number("deliveredPerSecond"), latencyMs("latency", "p50"),
        latencyMs("latency", "p99"), number("lost"), errorCount());
  }

  /** The stream results side by side. */
  static String table(List<Result> results) {
    Table t = new Table("run", "offered/s", "delivered/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms",
        "lost", "reordered", "errors");
    for (Result r : results) {
      if (r.json.getJsonObject("latency") == null) {
        continue;
      }
      t.row(r.label(), count(r.number("offeredPerSecond")), count(r.number("deliveredPerSecond")),
          ms(r.latencyMs("latency", "p50")), ms(r.latencyMs("latency", "p90")), ms(r.latencyMs("latency", "p99")),
          ms(r.latencyMs("latency", "p999")), ms(r.latencyMs("latency", "max")), count(r.number("lost")),
          count(r.number("reordered")), r.errorCount() == 0 ? "0" : r.json.getJsonObject("errors").encode());
    }
    return t.size() == 0 ? "" : t.render();
  }

  static String count(double n) {
    return Double.isNaN(n) ? "-" : String.format(Locale.ROOT, "%,.0f", n);
  }

  static String ms(double v) {
    return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.3f", v);
  }
}
