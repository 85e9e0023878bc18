package dev.switchboard.transport;

import dev.switchboard.auth.RoomTokens;
import dev.switchboard.config.Config;
import dev.switchboard.ops.Metrics;
import dev.switchboard.protocol.Codec;
import dev.switchboard.registry.NodeLoad;
import dev.switchboard.room.Rooms;
import io.vertx.core.Vertx;

/**
 * What every {@link Connection} of a node shares: thread-safe, created once per node.
 *
 * @param tokens the room token check, or {@code null} when the node runs open
 */
record SocketServices(Vertx vertx, Rooms rooms, Codec codec, NodeLoad load, Config.Limits limits,
                      RoomTokens tokens, Metrics metrics, OutboundBudget outbound) {
}
