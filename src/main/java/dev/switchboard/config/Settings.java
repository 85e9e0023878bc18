package dev.switchboard.config;

import static dev.switchboard.config.Setting.duration;
import static dev.switchboard.config.Setting.httpUrl;
import static dev.switchboard.config.Setting.iceServers;
import static dev.switchboard.config.Setting.idString;
import static dev.switchboard.config.Setting.integer;
import static dev.switchboard.config.Setting.memberList;
import static dev.switchboard.config.Setting.redisUrl;
import static dev.switchboard.config.Setting.string;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every setting of a node, with its default and what it is for: the one place to read them.
 * {@code conf/switchboard.json} repeats these defaults for people; a test keeps the two equal.
 */
public final class Settings {

  public static final List<Setting> ALL = List.of(
      // HTTP and WebSocket
      new Setting("http.host", "0.0.0.0", "interface the HTTP/WebSocket server binds", string()),
      new Setting("http.port", "8080", "HTTP/WebSocket port", integer(0, 65535)),
      new Setting("node.id", "", "this node's id in the cluster and Redis; empty picks node-<random>",
          idString("|[A-Za-z0-9._-]{1,64}")),
      new Setting("node.public-url", "",
          "URL clients use to reach this node directly; empty means http://127.0.0.1:<http.port>",
          httpUrl()),
      new Setting("node.heartbeat", "2s", "how often the node writes its record and load to Redis",
          duration(Duration.ofMillis(100), Duration.ofMinutes(1))),
      new Setting("node.heartbeat-ttl", "6s",
          "how long the node's record outlives its last heartbeat; a node silent this long is dead",
          duration(Duration.ofMillis(300), Duration.ofMinutes(5))),
      new Setting("node.soft-capacity", "5000",
          "connections above which placement stops sending a room's newcomers to this node for affinity",
          integer(1, 10_000_000)),
      new Setting("node.hard-capacity", "10000",
          "connections at which the node refuses new WebSocket upgrades with 503 and a better node",
          integer(1, 10_000_000)),
      new Setting("node.verticles", "0", "signaling verticles (event loops serving sockets); 0 is one per core",
          integer(0, 256)),
      // Redis
      new Setting("redis.url", "",
          "Redis connection string (redis://[:password@]host:port/db); empty starts a local Redis",
          redisUrl()),
      new Setting("redis.prefix", "sb:", "prefix of every Redis key", idString("[A-Za-z0-9._:-]{1,32}")),
      new Setting("redis.timeout", "2s", "how long a Redis command may take before the operation fails",
          duration(Duration.ofMillis(100), Duration.ofMinutes(1))),
      // Cluster
      new Setting("cluster.name", "switchboard", "Hazelcast cluster name: nodes with the same name form one cluster",
          idString("[A-Za-z0-9._-]{1,64}")),
      new Setting("cluster.host", "127.0.0.1", "address Hazelcast and the event bus bind and announce", string()),
      new Setting("cluster.port", "5701", "Hazelcast member port (the next free one of 20 is taken if busy)",
          integer(1, 65535)),
      new Setting("cluster.members", "127.0.0.1", "comma-separated Hazelcast members to join (host or host:port)",
          memberList()),
      new Setting("cluster.bus-port", "0", "event bus TCP port between nodes; 0 picks a free one", integer(0, 65535)),
      new Setting("cluster.config", "conf/cluster.xml",
          "Hazelcast XML configuration; the network settings above override its network section", string()),
      // Operations
      new Setting("admin.key", "",
          "bearer key of the admin API (/v1/nodes, /v1/rooms); empty turns the admin API off. Never logged",
          string()),
      // Limits
      new Setting("limits.frame-bytes", "65536", "largest WebSocket frame/message; larger closes with 1009",
          integer(1024, 16 * 1024 * 1024)),
      new Setting("limits.meta-bytes", "1024", "largest join.meta, as encoded JSON", integer(2, 65536)),
      new Setting("limits.state-bytes", "1024", "largest state.data, as encoded JSON", integer(2, 65536)),
      new Setting("limits.max-peers", "25", "peers per room, unless the room was created with its own maxPeers",
          integer(1, 10000)),
      new Setting("limits.rate", "50", "messages per second a connection may send, on average", integer(1, 100000)),
      new Setting("limits.rate-burst", "100", "messages a connection may send in one burst", integer(1, 100000)),
      new Setting("limits.rate-close-after", "5s",
          "a connection over its rate for this long is closed with 4429",
          duration(Duration.ofMillis(100), Duration.ofMinutes(10))),
      new Setting("limits.join-timeout", "10s", "time a new socket has to send join; then 4408",
          duration(Duration.ofMillis(50), Duration.ofMinutes(10))),
      new Setting("limits.ack-timeout", "5s",
          "time a relayed message with an id waits for the target's node before error unavailable",
          duration(Duration.ofMillis(100), Duration.ofMinutes(5))),
      new Setting("limits.write-queue-bytes", "262144",
          "bytes queued towards one socket before it counts as a slow consumer", integer(4096, 64 * 1024 * 1024)),
      new Setting("limits.slow-consumer-timeout", "10s",
          "a socket whose write queue stays full this long is closed with 1008",
          duration(Duration.ofMillis(100), Duration.ofMinutes(10))),
      // Media and client
      new Setting("ice.servers", "[]", "RTCIceServer objects (JSON array) handed to clients in welcome",
          iceServers()),
      new Setting("client.dir", "client", "directory served at / (the demo page and the client module)",
          string())
  );

  private static final Map<String, Setting> BY_NAME = new LinkedHashMap<>();

  static {
    ALL.forEach(s -> BY_NAME.put(s.name(), s));
  }

  private Settings() {
  }

  /** The setting with this name, or {@code null}. */
  public static Setting byName(String name) {
    return BY_NAME.get(name);
  }
}
