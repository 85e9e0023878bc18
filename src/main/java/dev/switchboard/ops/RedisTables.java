package dev.switchboard.ops;

import dev.switchboard.registry.Placement;
import dev.switchboard.registry.RedisRoomStore;
import dev.switchboard.registry.RoomStore;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Optional;

/**
 * What Redis holds of the cluster, as aligned tables for a terminal: the live nodes and their
 * load, the busiest rooms, one room's members. Read straight from Redis, for operators who are not
 * on the cluster network (the {@code nodes} and {@code rooms} commands).
 */
public final class RedisTables {

  /** Rooms listed at most by {@link #rooms}. */
  public static final int ROOMS_LISTED = 100;

  private RedisTables() {
  }

  public static String nodes(Placement placement) {
    Table t = new Table("NODE", "STATE", "CONNECTIONS", "ROOMS", "HEARTBEAT", "URL");
    long now = System.currentTimeMillis();
    for (Placement.NodeStatus n : placement.liveNodes().await()) {
      // The node stamps its heartbeat by its own clock: a little ahead of this one reads as just now.
      t.row(n.node(), n.state(), n.connections(), n.rooms(), Math.max(0, now - n.heartbeatAt()) + "ms ago", n.url());
    }
    return t.size() == 0 ? "no live nodes\n" : t.render();
  }

  public static String rooms(RedisRoomStore store) {
    Table t = new Table("ROOM", "PEERS");
    store.rooms(ROOMS_LISTED).await().forEach(t::row);
    return t.size() == 0 ? "no rooms\n" : t.render();
  }

  public static Optional<String> room(RedisRoomStore store, String room) {
    return store.room(room).await().map(info -> {
      Table t = new Table("PEER", "NODE", "ROLE", "AUDIO", "VIDEO", "JOINED");
      for (RoomStore.StoredMember m : info.members()) {
        JsonObject r = m.record();
        JsonObject state = r.getJsonObject("state", new JsonObject());
        t.row(m.peer(), r.getString("node"), r.getString("role"), state.getValue("audio"), state.getValue("video"),
            Instant.ofEpochMilli(r.getLong("joinedAt", 0L)));
      }
      String config = "room " + room + "  mode=" + info.config().getOrDefault("mode", "mesh")
          + (info.config().containsKey("maxPeers") ? "  maxPeers=" + info.config().get("maxPeers") : "")
          + "  peers=" + info.members().size() + "\n";
      return config + (t.size() == 0 ? "" : t.render());
    });
  }
}
