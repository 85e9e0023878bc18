package dev.switchboard.transport;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * The node's counters of refused and closed connections, one per reason, shared by every event
 * loop (each a {@link LongAdder}, so counting never contends). Read at {@code GET /metrics}
 * and by tests.
 */
public final class Refusals {

  private final Map<Refusal, LongAdder> refusals = new EnumMap<>(Refusal.class);

  public Refusals() {
    for (Refusal r : Refusal.values()) {
      refusals.put(r, new LongAdder());
    }
  }

  public void count(Refusal r) {
    refusals.get(r).increment();
  }

  /** Makes the counters {@code switchboard_refusals_total{reason}} of {@code registry}, read at each scrape. */
  public void register(MeterRegistry registry) {
    for (Refusal r : Refusal.values()) {
      FunctionCounter.builder("switchboard.refusals", refusals.get(r), LongAdder::sum).tag("reason", r.label())
          .description("Connections, joins and messages refused or closed by the node, by reason").register(registry);
    }
  }

  /** How many times {@code r} happened since the node started. */
  public long get(Refusal r) {
    return refusals.get(r).sum();
  }
}
