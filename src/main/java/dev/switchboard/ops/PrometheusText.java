package dev.switchboard.ops;

import dev.switchboard.media.MediaCounters;
import dev.switchboard.transport.Refusal;
import dev.switchboard.transport.Refusals;
import java.lang.management.ManagementFactory;

/** The node's counters and gauges in the Prometheus text exposition format (version 0.0.4). */
final class PrometheusText {

  /** What the gauges read at the moment of the scrape. */
  record Gauges(long connections, long peers, long rooms, long outboundBytes, long clusterGaps,
                long clusterSkippedEntries, long clusterLegacyBatches) {
  }

  private PrometheusText() {
  }

  static String render(Refusals refusals, Gauges g, MediaCounters media) {
    StringBuilder b = new StringBuilder(2048);
    b.append("# HELP switchboard_refusals_total Connections, joins and messages refused or closed by the node.\n");
    b.append("# TYPE switchboard_refusals_total counter\n");
    for (Refusal r : Refusal.values()) {
      b.append("switchboard_refusals_total{reason=\"").append(r.label()).append("\"} ")
          .append(refusals.get(r)).append('\n');
    }
    counter(b, "switchboard_cluster_batch_gaps_total",
        "Node-to-node batches that arrived out of their sender's order or after a missing one.", g.clusterGaps());
    counter(b, "switchboard_cluster_skipped_entries_total",
        "Node-to-node entries of kinds this node does not know (sent by a newer node), skipped.",
        g.clusterSkippedEntries());
    counter(b, "switchboard_cluster_legacy_batches_total",
        "Node-to-node batches received in the first release's format: a node still writes it.",
        g.clusterLegacyBatches());
    counter(b, "switchboard_media_rooms_created_total", "Media rooms this node created in its media server.",
        media.roomsCreated());
    counter(b, "switchboard_media_rooms_destroyed_total", "Media rooms this node destroyed in its media server.",
        media.roomsDestroyed());
    counter(b, "switchboard_media_participants_joined_total",
        "Members of sfu rooms this node joined to their media room (a handle each).", media.participantsJoined());
    counter(b, "switchboard_media_participants_released_total",
        "Media room participants this node released (their handle detached).", media.participantsReleased());
    gauge(b, "switchboard_connections", "Open WebSockets on this node.", g.connections());
    gauge(b, "switchboard_peers", "Peers joined through this node.", g.peers());
    gauge(b, "switchboard_rooms", "Rooms with a peer on this node.", g.rooms());
    gauge(b, "switchboard_outbound_bytes", "Bytes waiting to be written to this node's sockets.", g.outboundBytes());
    gauge(b, "jvm_memory_used_bytes{area=\"heap\"}", "jvm_memory_used_bytes",
        "Bytes of JVM memory in use (heap: live and not yet collected).",
        ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
    long rss = ProcessMemory.residentBytes();
    if (rss >= 0) {
      gauge(b, "process_resident_memory_bytes", "Resident set size of the node's process.", rss);
    }
    return b.toString();
  }

  private static void counter(StringBuilder b, String name, String help, long value) {
    b.append("# HELP ").append(name).append(' ').append(help).append('\n');
    b.append("# TYPE ").append(name).append(" counter\n");
    b.append(name).append(' ').append(value).append('\n');
  }

  private static void gauge(StringBuilder b, String name, String help, long value) {
    gauge(b, name, name, help, value);
  }

  private static void gauge(StringBuilder b, String series, String name, String help, long value) {
    b.append("# HELP ").append(name).append(' ').append(help).append('\n');
    b.append("# TYPE ").append(name).append(" gauge\n");
    b.append(series).append(' ').append(value).append('\n');
  }
}
