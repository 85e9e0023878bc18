package dev.switchboard.ops;

import dev.switchboard.config.Config;
import dev.switchboard.config.ConfigException;
import dev.switchboard.config.ConfigLoader;
import dev.switchboard.protocol.Ids;
import dev.switchboard.registry.Keys;
import dev.switchboard.registry.Placement;
import dev.switchboard.registry.RedisRoomStore;
import dev.switchboard.registry.RoomStore;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Redis;
import java.io.PrintStream;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Terminal commands that read straight from Redis, for operators who are not on the cluster
 * network: {@code nodes}, {@code rooms}, {@code rooms <room>}. The Redis connection comes from
 * {@code --redis-url} or {@code SWITCHBOARD_REDIS_URL}, like the node's.
 */
public final class Cli {

  /** Rooms listed at most by {@code rooms}. */
  static final int ROOMS_LISTED = 100;

  private Cli() {
  }

  /** True if {@code word} names a command of this class. */
  public static boolean isCommand(String word) {
    return "nodes".equals(word) || "rooms".equals(word);
  }

  /** Runs a command; returns the process exit code. */
  public static int run(List<String> args, Map<String, String> env, PrintStream out, PrintStream err) {
    String command = args.get(0);
    String room = args.size() > 1 && !args.get(1).startsWith("--") ? args.get(1) : null;
    List<String> flags = args.subList(room == null ? 1 : 2, args.size());
    Config config;
    try {
      config = ConfigLoader.load(flags, env);
    } catch (ConfigException e) {
      err.println("switchboard: " + e.getMessage());
      return 2;
    }
    if (config.redisUrl().isEmpty()) {
      err.println("switchboard: " + command + " reads Redis: set --redis-url or SWITCHBOARD_REDIS_URL");
      return 2;
    }
    if (room != null && !Ids.isValid(room)) {
      err.println("switchboard: room must match [A-Za-z0-9._-]{1,64}");
      return 2;
    }
    Vertx vertx = Vertx.vertx();
    Redis redis = Redis.createClient(vertx, config.redisUrl());
    Keys keys = new Keys(config.redisPrefix());
    try {
      RedisRoomStore store = new RedisRoomStore(redis, keys, config.redisTimeout(), () -> null);
      if ("nodes".equals(command)) {
        out.print(nodes(new Placement(redis, keys, config.softCapacity(), config.redisTimeout())));
      } else if (room == null) {
        out.print(rooms(store));
      } else {
        Optional<String> shown = room(store, room);
        if (shown.isEmpty()) {
          err.println("switchboard: no room " + room);
          return 1;
        }
        out.print(shown.get());
      }
      return 0;
    } catch (RuntimeException e) {
      err.println("switchboard: Redis did not answer (" + e.getMessage() + ")");
      return 1;
    } finally {
      redis.close();
      vertx.close().await();
    }
  }

  static String nodes(Placement placement) {
    Table t = new Table("NODE", "STATE", "CONNECTIONS", "ROOMS", "HEARTBEAT", "URL");
    long now = System.currentTimeMillis();
    for (Placement.NodeStatus n : placement.liveNodes().await()) {
      t.row(n.node(), n.state(), n.connections(), n.rooms(), (now - n.heartbeatAt()) + "ms ago", n.url());
    }
    return t.size() == 0 ? "no live nodes\n" : t.render();
  }

  static String rooms(RedisRoomStore store) {
    Table t = new Table("ROOM", "PEERS");
    store.rooms(ROOMS_LISTED).await().forEach(t::row);
    return t.size() == 0 ? "no rooms\n" : t.render();
  }

  static Optional<String> room(RedisRoomStore store, String room) {
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
