package dev.switchboard.bench;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Counts the commands Redis served, from {@code INFO commandstats}, so a run can say how many
 * Redis commands each relayed message or join cost. The nodes also talk to Redis on their own
 * clock (heartbeats, the reaper): {@link #background} measures that rate while the cluster is
 * idle, and {@link Delta#net} takes it off a run's count. Used from the driving thread only.
 */
final class RedisProbe implements AutoCloseable {

  private final Vertx vertx;
  private final Redis redis;
  private Delta background;

  RedisProbe(String url) {
    this.vertx = Vertx.vertx();
    this.redis = Redis.createClient(vertx, url);
  }

  /** Calls per command since Redis started, without the probe's own {@code INFO}. */
  Map<String, Long> calls() {
    return parse(redis.send(Request.cmd(Command.INFO).arg("commandstats")).await().toString());
  }

  /** The calls per command in an {@code INFO commandstats} reply, without {@code info} itself. */
  static Map<String, Long> parse(String info) {
    Map<String, Long> calls = new HashMap<>();
    for (String line : info.split("\r?\n")) {
      // cmdstat_evalsha:calls=12,usec=345,usec_per_call=28.75,rejected_calls=0,failed_calls=0
      if (line.startsWith("cmdstat_")) {
        int colon = line.indexOf(':');
        int start = line.indexOf("calls=", colon) + "calls=".length();
        int end = line.indexOf(',', start);
        String name = line.substring("cmdstat_".length(), colon);
        if (!name.equals("info")) {
          calls.put(name, Long.parseLong(line.substring(start, end < 0 ? line.length() : end)));
        }
      }
    }
    return calls;
  }

  /** The commands served between two readings of {@link #calls}. */
  record Delta(Map<String, Long> byCommand, double seconds) {
    static Delta between(Map<String, Long> before, Map<String, Long> after, double seconds) {
      Map<String, Long> d = new TreeMap<>();
      after.forEach((k, v) -> {
        long n = v - before.getOrDefault(k, 0L);
        if (n != 0) {
          d.put(k, n);
        }
      });
      return new Delta(d, seconds);
    }

    long total() {
      return byCommand.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Commands in this delta beyond what {@code background} would have served in the same time. */
    double net(Delta background) {
      return total() - background.total() / background.seconds() * seconds;
    }

    JsonObject json() {
      JsonObject o = new JsonObject();
      byCommand.forEach(o::put);
      return o;
    }
  }

  /** Measures the idle cluster's own Redis traffic over {@code seconds}, for {@link #background}. */
  void measureBackground(double seconds) {
    Map<String, Long> before = calls();
    Bench.sleepUntil(System.nanoTime() + (long) (seconds * 1e9));
    background = Delta.between(before, calls(), seconds);
  }

  /** The idle cluster's Redis traffic, once {@link #measureBackground} ran; else null. */
  Delta background() {
    return background;
  }

  @Override
  public void close() {
    redis.close();
    vertx.close().await();
  }
}
