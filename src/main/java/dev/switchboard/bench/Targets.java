package dev.switchboard.bench;

import dev.switchboard.ops.Table;
import java.util.Locale;

/** The suite's verdicts: each figure the benchmark issue set a target for, against that target. */
final class Targets {

  /** Bytes per idle peer, heap and RSS each (12 KB). */
  static final double IDLE_BYTES = 12_000;
  static final double RELAY_RATIO = 0.6;
  static final double P99_RATIO = 2.0;
  static final double CROSS_P99_MS = 5.0;
  static final double JOINS_PER_SECOND = 3000;
  static final int IDLE_PEERS = 20_000;
  /** Node CPU per cross-node message at the fixed low rate, at most this many times its cost near saturation. */
  static final double LOW_LOAD_CPU_RATIO = 1.5;
  /** Same-node relay throughput, at least this share of the baseline's. */
  static final double SAME_NODE_RATIO = 0.85;

  private Targets() {
  }

  static String summary(Result baseline, Result crossMax, Result sameMax, Result sameHalf, Result crossHalf,
                        Result sameLow, Result crossLow, Result storm, Result idle, String idleCappedBy) {
    Table t = new Table("figure", "target", "measured", "verdict");
    double ratio = crossMax.number("maxSustainedPerSecond") / baseline.number("maxSustainedPerSecond");
    t.row("cross-node relay ÷ baseline (max sustained msgs/s)", "≥ " + RELAY_RATIO, f2(ratio), verdict(ratio >= RELAY_RATIO));
    double sameRatio = sameMax.number("maxSustainedPerSecond") / baseline.number("maxSustainedPerSecond");
    t.row("same-node relay ÷ baseline (max sustained msgs/s)", "≥ " + SAME_NODE_RATIO, f2(sameRatio),
        verdict(sameRatio >= SAME_NODE_RATIO));
    String cpu = "nodeCpuMicrosPerMessage";
    t.row("node CPU per message, same-node, at " + Result.count(sameLow.number("offeredPerSecond")) + "/s (µs)", "-",
        f1(sameLow.number(cpu)), "");
    t.row("node CPU per message, same-node, at the max (µs)", "-", f1(sameMax.number(cpu)), "");
    t.row("node CPU per message, cross-node, at " + Result.count(crossLow.number("offeredPerSecond")) + "/s (µs)", "-",
        f1(crossLow.number(cpu)), "");
    t.row("node CPU per message, cross-node, at the max (µs)", "-", f1(crossMax.number(cpu)), "");
    double lowOverMax = crossLow.number(cpu) / crossMax.number(cpu);
    t.row("cross-node CPU per message, low rate ÷ max", "≤ " + LOW_LOAD_CPU_RATIO, f2(lowOverMax),
        verdict(lowOverMax <= LOW_LOAD_CPU_RATIO));
    double p99Cross = crossHalf.latencyMs("latency", "p99");
    double p99Same = sameHalf.latencyMs("latency", "p99");
    t.row("cross-node p99 ÷ same-node p99 at half load", "≤ " + P99_RATIO, f2(p99Cross / p99Same),
        verdict(p99Cross / p99Same <= P99_RATIO));
    t.row("cross-node p99 at half load (ms)", "< " + CROSS_P99_MS, f2(p99Cross), verdict(p99Cross < CROSS_P99_MS));
    double joins = storm.number("joinsPerSecond");
    t.row("joins/s (join-storm)", "≥ " + (int) JOINS_PER_SECOND, Result.count(joins), verdict(joins >= JOINS_PER_SECOND));
    t.row("messages lost after welcome (join-storm)", "0", Result.count(storm.number("lost")),
        verdict(storm.number("lost") == 0));
    double joined = idle.number("joined");
    t.row("idle joined peers on one node", "≥ " + IDLE_PEERS, Result.count(joined)
        + (idleCappedBy == null ? "" : " (" + idleCappedBy + ")"), verdict(joined >= IDLE_PEERS));
    t.row("heap per idle peer (bytes)", "≤ " + (int) IDLE_BYTES, Result.count(idle.number("heapBytesPerPeer")),
        verdict(idle.number("heapBytesPerPeer") <= IDLE_BYTES));
    t.row("RSS per idle peer (bytes)", "≤ " + (int) IDLE_BYTES, Result.count(idle.number("rssBytesPerPeer")),
        verdict(idle.number("rssBytesPerPeer") <= IDLE_BYTES));
    double perMessage = crossHalf.redisPer("perMessage");
    t.row("Redis commands per relayed message", "0", String.format(Locale.ROOT, "%.3f", perMessage),
        verdict(perMessage < 0.001));
    t.row("Redis commands per join (join + leave)", "-", String.format(Locale.ROOT, "%.2f", storm.redisPer("perJoin")), "");
    return System.lineSeparator() + t.render();
  }

  private static String f2(double v) {
    return String.format(Locale.ROOT, "%.2f", v);
  }

  private static String f1(double v) {
    return String.format(Locale.ROOT, "%.1f", v);
  }

  private static String verdict(boolean met) {
    return met ? "met" : "MISSED";
  }
}
