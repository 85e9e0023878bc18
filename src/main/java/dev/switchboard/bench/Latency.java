package dev.switchboard.bench;

import io.vertx.core.json.JsonObject;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Latencies of one kind, recorded in microseconds into an HdrHistogram (fixed memory whatever
 * the count: 3 significant digits up to a minute). Not thread-safe: each event loop records into
 * its own and the results are {@link #add}ed together at the end.
 */
final class Latency {

  private static final long HIGHEST_US = TimeUnit.MINUTES.toMicros(1);

  private final Histogram histogram = new Histogram(HIGHEST_US, 3);

  /** Records {@code nanos}; anything above a minute counts as a minute. */
  void recordNanos(long nanos) {
    histogram.recordValue(Math.min(HIGHEST_US, Math.max(0, nanos / 1000)));
  }

  /** A snapshot, safe to hand to another thread while this one goes on recording. */
  Latency copy() {
    Latency c = new Latency();
    c.histogram.add(histogram);
    return c;
  }

  void add(Latency other) {
    histogram.add(other.histogram);
  }

  long count() {
    return histogram.getTotalCount();
  }

  /** The value at {@code percentile} (0 to 100), in milliseconds. */
  double ms(double percentile) {
    return histogram.getTotalCount() == 0 ? 0 : histogram.getValueAtPercentile(percentile) / 1000.0;
  }

  double maxMs() {
    return histogram.getTotalCount() == 0 ? 0 : histogram.getMaxValue() / 1000.0;
  }

  /** {@code {count, p50, p90, p99, p999, max}}, in milliseconds with microsecond precision. */
  JsonObject json() {
    return new JsonObject().put("count", count()).put("p50", round(ms(50))).put("p90", round(ms(90)))
        .put("p99", round(ms(99))).put("p999", round(ms(99.9))).put("max", round(maxMs()));
  }

  static double round(double ms) {
    return Math.round(ms * 1000) / 1000.0;
  }
}
