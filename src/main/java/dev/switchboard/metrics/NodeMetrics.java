package dev.switchboard.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * One node's metrics: a Micrometer registry shared with Vert.x (whose HTTP server, event bus and
 * pool metrics, and the JVM's, land in it too), scraped at {@code GET /metrics} in the Prometheus
 * text format, and the node's own meters (docs/operations.md, "Metrics"). Each node of a JVM has
 * its own. Meters are made once and cached: counting on the hot path is an increment, never a
 * lookup by name.
 */
public final class NodeMetrics {

  /** Null when metrics are off ({@code metrics.enabled=false}): the meters then count into nothing. */
  private final PrometheusMeterRegistry prometheus;
  private final MeterRegistry registry;
  private final Counter joins;
  private final Counter roomMessages;
  private final Counter roomDeliveries;
  private final Timer joinLatency;
  private final Timer localRelayLatency;
  private final Timer remoteRelayLatency;
  private final Map<String, Counter> leaves = new ConcurrentHashMap<>();
  private final Map<String, Counter[]> relays = new ConcurrentHashMap<>();
  private final Map<String, Timer> redisCommands = new ConcurrentHashMap<>();
  private final Map<String, Counter> redisErrors = new ConcurrentHashMap<>();

  /** A node's metrics, served at {@code /metrics}. */
  public NodeMetrics() {
    this(true);
  }

  /**
   * {@code enabled} false: every meter is a no-op (a registry with nothing behind it) and Vert.x
   * reports nothing; for measuring what metrics cost ({@code metrics.enabled}).
   */
  public NodeMetrics(boolean enabled) {
    prometheus = enabled ? new PrometheusMeterRegistry(PrometheusConfig.DEFAULT) : null;
    registry = enabled ? prometheus : new CompositeMeterRegistry();
    joins = Counter.builder("switchboard.joins").description("Peers welcomed into a room through this node (fresh joins)")
        .register(registry);
    roomMessages = Counter.builder("switchboard.room.messages")
        .description("Room-wide messages sent by this node's peers").register(registry);
    roomDeliveries = Counter.builder("switchboard.room.message.deliveries")
        .description("Room-wide messages handed to this node's sessions, the sender's included (the fan-out)")
        .register(registry);
    joinLatency = Timer.builder("switchboard.join").description("From a join's arrival to its welcome, fresh joins")
        .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
        .maximumExpectedValue(Duration.ofSeconds(10)).register(registry);
    localRelayLatency = relayLatency("local", "a peer of this node to a peer of this node: socket in to socket out");
    remoteRelayLatency = relayLatency("remote", "a peer of another node to one of this node: its node taking it,"
        + " the hop between the nodes, this node writing it (by the two nodes' clocks)");
  }

  private Timer relayLatency(String path, String what) {
    return Timer.builder("switchboard.relay").tag("path", path)
        .description("Relays written to a socket of this node, from " + what).publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofNanos(10_000)).maximumExpectedValue(Duration.ofSeconds(5)).register(registry);
  }

  /** Now, in microseconds since the epoch: relays carry it from node to node (clocks kept in sync by NTP). */
  public static long nowMicros() {
    Instant now = Instant.now();
    return now.getEpochSecond() * 1_000_000 + now.getNano() / 1_000;
  }

  /**
   * A relay was written to a socket of this node, sent at {@code sentAtMicros} by this node
   * ({@code local}) or another; nothing for a relay without its sending time (an older node's), or
   * one that seems to come from the future (the other node's clock is ahead).
   */
  public void relayDelivered(boolean local, long sentAtMicros) {
    if (sentAtMicros <= 0) {
      return;
    }
    long micros = nowMicros() - sentAtMicros;
    if (micros >= 0) {
      (local ? localRelayLatency : remoteRelayLatency).record(micros, TimeUnit.MICROSECONDS);
    }
  }

  /** The registry Vert.x's metrics and the node's gauges are registered in. */
  public MeterRegistry registry() {
    return registry;
  }

  /** Whether metrics are on: Vert.x reports to the registry, and {@link #scrape} has something to say. */
  public boolean enabled() {
    return prometheus != null;
  }

  /** Everything, in the Prometheus text format (0.0.4); empty when metrics are off. */
  public String scrape() {
    return prometheus == null ? "" : prometheus.scrape();
  }

  /** A fresh join was welcomed, {@code nanos} after it arrived. */
  public void joined(long nanos) {
    joins.increment();
    joinLatency.record(Duration.ofNanos(nanos));
  }

  /** A peer of this node left its room for {@code reason} (a {@code peer-left} reason). */
  public void left(String reason) {
    leaves.computeIfAbsent(reason, r -> Counter.builder("switchboard.leaves").tag("reason", r)
        .description("Peers of this node that left their room, by peer-left reason").register(registry)).increment();
  }

  /**
   * A relay ({@code offer}, {@code answer}, {@code candidate}, a targeted {@code message}) from a
   * peer of this node to a peer of this node ({@code local}) or of another ({@code remote}).
   */
  public void relayed(String type, boolean local) {
    // By type, then path: a lookup with the caller's constant string, nothing built per relay.
    relays.computeIfAbsent(type, t -> new Counter[] {relayCounter(t, "local"), relayCounter(t, "remote")})
        [local ? 0 : 1].increment();
  }

  private Counter relayCounter(String type, String path) {
    return Counter.builder("switchboard.relays").tag("type", type).tag("path", path)
        .description("Relays sent by this node's peers, by type and path").register(registry);
  }

  /** A room-wide message from a peer of this node. */
  public void roomMessage() {
    roomMessages.increment();
  }

  /** A room-wide message reached {@code sessions} sessions of this node (its sender's among them). */
  public void roomDeliveries(int sessions) {
    roomDeliveries.increment(sessions);
  }

  /** A Redis command (a script or a command, by name) answered after {@code nanos}, or failed. */
  public void redis(String command, long nanos, boolean failed) {
    redisCommands.computeIfAbsent(command, c -> Timer.builder("switchboard.redis.command").tag("command", c)
        .description("Redis commands and scripts of this node, by name").publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(5)).register(registry))
        .record(Duration.ofNanos(nanos));
    if (failed) {
      redisErrors.computeIfAbsent(command, c -> Counter.builder("switchboard.redis.errors").tag("command", c)
          .description("Redis commands that failed or timed out, by name").register(registry)).increment();
    }
  }
}
