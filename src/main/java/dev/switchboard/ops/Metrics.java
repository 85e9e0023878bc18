package dev.switchboard.ops;

import java.lang.management.ManagementFactory;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * The node's counters of refused and closed connections, one per reason, shared by every event
 * loop (each a {@link LongAdder}, so counting never contends). Read at {@code GET /metrics} in
 * the Prometheus text format, and by tests.
 */
public final class Metrics {

  /** Why a connection, a join or a message was refused, or a socket closed by the node. */
  public enum Refusal {
    /** Upgrade from a page whose Origin is not allowed (HTTP 403). */
    ORIGIN,
    /** Upgrade over the client address's connect rate (HTTP 429). */
    IP_RATE,
    /** Upgrade over the client address's concurrent sockets (HTTP 429). */
    IP_CONNECTIONS,
    /** Upgrade while the per-address table is full (HTTP 503). */
    IP_TABLE_FULL,
    /** Upgrade at the node's hard capacity (HTTP 503). */
    NODE_FULL,
    /** Join without a valid token (close 4401). */
    UNAUTHORIZED,
    /** Join whose token does not grant it (close 4403). */
    FORBIDDEN,
    /** A message over the connection's rate (error rate-limited). */
    RATE_LIMITED,
    /** A connection over its rate for too long (close 4429). */
    RATE_CLOSED,
    /** A message that did not parse or validate (error bad-request / unknown-type). */
    BAD_MESSAGE,
    /** A first message that was not a valid join (close 4400). */
    BAD_JOIN,
    /** No join within the join timeout (close 4408). */
    JOIN_TIMEOUT,
    /** A frame over the frame limit (close 1009) or otherwise invalid (1007, 1002). */
    BAD_FRAME,
    /** A socket that fell too far behind (close 1008). */
    SLOW_CONSUMER,
    /** A socket that stopped answering pings (close 4410). */
    PONG_TIMEOUT;

    /** The label value: {@code ip_rate} for {@code IP_RATE}. */
    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private final Map<Refusal, LongAdder> refusals = new EnumMap<>(Refusal.class);

  public Metrics() {
    for (Refusal r : Refusal.values()) {
      refusals.put(r, new LongAdder());
    }
  }

  public void count(Refusal r) {
    refusals.get(r).increment();
  }

  /** How many times {@code r} happened since the node started. */
  public long get(Refusal r) {
    return refusals.get(r).sum();
  }

  /** The counters and the given gauges in the Prometheus text exposition format (version 0.0.4). */
  public String prometheus(long connections, long peers, long rooms, long outboundBytes) {
    StringBuilder b = new StringBuilder(2048);
    b.append("# HELP switchboard_refusals_total Connections, joins and messages refused or closed by the node.\n");
    b.append("# TYPE switchboard_refusals_total counter\n");
    for (Refusal r : Refusal.values()) {
      b.append("switchboard_refusals_total{reason=\"").append(r.label()).append("\"} ")
          .append(refusals.get(r).sum()).append('\n');
    }
    gauge(b, "switchboard_connections", "Open WebSockets on this node.", connections);
    gauge(b, "switchboard_peers", "Peers joined through this node.", peers);
    gauge(b, "switchboard_rooms", "Rooms with a peer on this node.", rooms);
    gauge(b, "switchboard_outbound_bytes", "Bytes waiting to be written to this node's sockets.", outboundBytes);
    b.append("# HELP jvm_memory_used_bytes Bytes of JVM memory in use (heap: live and not yet collected).\n");
    b.append("# TYPE jvm_memory_used_bytes gauge\n");
    b.append("jvm_memory_used_bytes{area=\"heap\"} ")
        .append(ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed()).append('\n');
    long rss = ProcessMemory.residentBytes();
    if (rss >= 0) {
      gauge(b, "process_resident_memory_bytes", "Resident set size of the node's process.", rss);
    }
    return b.toString();
  }

  private static void gauge(StringBuilder b, String name, String help, long value) {
    b.append("# HELP ").append(name).append(' ').append(help).append('\n');
    b.append("# TYPE ").append(name).append(" gauge\n");
    b.append(name).append(' ').append(value).append('\n');
  }
}
