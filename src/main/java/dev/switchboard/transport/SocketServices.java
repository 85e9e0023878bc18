package dev.switchboard.transport;

import dev.switchboard.auth.Origins;
import dev.switchboard.auth.RoomTokens;
import dev.switchboard.config.Config;
import dev.switchboard.protocol.Codec;
import dev.switchboard.registry.NodeRecord;
import dev.switchboard.registry.Placement;
import dev.switchboard.room.PeerSessions;

/**
 * What every socket of a node shares, created once per node: thread-safe.
 *
 * @param tokens    the room token check, or {@code null} when the node runs open
 * @param placement names a better node to a client this one refuses because it is full
 * @param drain     moves the open sockets to other nodes when the node drains
 */
public record SocketServices(Config config, PeerSessions sessions, Codec codec, NodeRecord record, RoomTokens tokens,
                             Refusals refusals, IpLimits ipLimits, Origins origins, OutboundBudget outbound,
                             Placement placement, SocketDrain drain) {

  Config.Limits limits() {
    return config.limits();
  }
}
