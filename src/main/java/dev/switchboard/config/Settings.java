package dev.switchboard.config;

import static dev.switchboard.config.Setting.bool;
import static dev.switchboard.config.Setting.cidrList;
import static dev.switchboard.config.Setting.clientDir;
import static dev.switchboard.config.Setting.duration;
import static dev.switchboard.config.Setting.httpUrl;
import static dev.switchboard.config.Setting.httpUrlList;
import static dev.switchboard.config.Setting.iceServers;
import static dev.switchboard.config.Setting.idString;
import static dev.switchboard.config.Setting.integer;
import static dev.switchboard.config.Setting.memberList;
import static dev.switchboard.config.Setting.originList;
import static dev.switchboard.config.Setting.publicKey;
import static dev.switchboard.config.Setting.redisUrl;
import static dev.switchboard.config.Setting.string;
import static dev.switchboard.config.Setting.turnUrls;
import static dev.switchboard.config.Setting.webSocketUrl;
import static dev.switchboard.config.Setting.webhookEvents;

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
      new Setting("http.allowed-origins", "*",
          "comma-separated origins whose pages may open WebSockets (https://app.example.com, "
              + "https://*.example.com); * allows any page (development). node.public-url is always allowed",
          originList()),
      new Setting("http.trusted-proxies", "",
          "comma-separated addresses or CIDRs of load balancers whose X-Forwarded-For names the client; "
              + "empty trusts none and counts the socket's own peer address",
          cidrList()),
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
      new Setting("node.drain-period", "10s",
          "how long a draining node spreads its clients' reconnect over: they get reconnect in batches,"
              + " and resume on other nodes",
          duration(Duration.ZERO, Duration.ofMinutes(10))),
      new Setting("node.drain-timeout", "30s",
          "how long a node stopping on SIGTERM drains at most before it closes the sockets left (1001) and"
              + " exits; at least node.drain-period",
          duration(Duration.ZERO, Duration.ofHours(1))),
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
      new Setting("cluster.wire-version", "2",
          "node-to-node format this node writes (it reads every version): 1 while nodes of the first release are"
              + " still in the cluster, during a rolling update from it; then 2",
          integer(1, 2)),
      new Setting("cluster.config", "conf/cluster.xml",
          "Hazelcast XML configuration; the network settings above override its network section", string()),
      // Operations
      new Setting("admin.key", "",
          "bearer key of the admin API (/v1/nodes, /v1/rooms); empty turns the admin API off. Never logged",
          string()),
      // Room tokens
      new Setting("auth.secret", "",
          "HS256 secret of room tokens (at least 32 bytes); with no auth.public-key either, the node runs "
              + "open. Never logged",
          Settings::secret),
      new Setting("auth.public-key", "",
          "PEM public key of room tokens, inline or a file path: RSA verifies RS256, EC P-256 verifies ES256",
          publicKey()),
      new Setting("auth.issuer", "", "iss claim every room token must carry; empty accepts any", string()),
      new Setting("auth.audience", "", "aud claim every room token must carry; empty accepts any", string()),
      new Setting("auth.clock-skew", "30s", "tolerance when checking a token's exp and nbf against this clock",
          duration(Duration.ZERO, Duration.ofMinutes(10))),
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
      new Setting("limits.write-queue-bytes", "65536",
          "bytes waiting towards one socket above which it counts as a slow consumer",
          integer(1024, 64 * 1024 * 1024)),
      new Setting("limits.slow-consumer-timeout", "10s",
          "a socket that stays a slow consumer this long is closed with 1008",
          duration(Duration.ofMillis(100), Duration.ofMinutes(10))),
      new Setting("limits.outbound-bytes", "1048576",
          "bytes that may wait towards one socket; one more closes it with 1008 at once",
          integer(4096, 256 * 1024 * 1024)),
      new Setting("limits.node-outbound-bytes", "268435456",
          "bytes that may wait towards all sockets of the node; past it, every slow consumer is closed at once",
          integer(65536, Integer.MAX_VALUE)),
      new Setting("limits.ping-interval", "15s",
          "how often the node pings each socket (under the 60 s idle timeout of common load balancers)",
          duration(Duration.ofMillis(50), Duration.ofMinutes(5))),
      new Setting("limits.pong-timeout", "30s",
          "a socket that sends nothing, not even a pong, this long is closed with 4410; its peer leaves "
              + "with reason timeout",
          duration(Duration.ofMillis(100), Duration.ofMinutes(30))),
      new Setting("limits.resume-window", "15s",
          "how long a peer whose socket closed without leave (or whose node died) is held for its client to"
              + " resume; 0: it leaves at once",
          duration(Duration.ZERO, Duration.ofMinutes(10))),
      new Setting("limits.resume-buffer", "256",
          "messages held for a peer while it is away; one more and it leaves with reason timeout",
          integer(1, 100_000)),
      new Setting("limits.resume-buffer-bytes", "262144",
          "bytes of messages held for a peer while it is away; beyond: it leaves with reason timeout",
          integer(1024, 64 * 1024 * 1024)),
      new Setting("limits.ip-connections", "100",
          "WebSockets one client address may hold open on this node; beyond: HTTP 429",
          integer(1, 10_000_000)),
      new Setting("limits.ip-connect-rate", "10",
          "new WebSockets per second one client address may open on this node, on average; beyond: HTTP 429",
          integer(1, 1_000_000)),
      new Setting("limits.ip-connect-burst", "40",
          "new WebSockets one client address may open in one burst", integer(1, 1_000_000)),
      // Media and client
      new Setting("ice.servers", "[]", "RTCIceServer objects (JSON array) handed to clients in welcome as they are",
          iceServers()),
      new Setting("ice.turn-urls", "",
          "comma-separated TURN URIs (turn:turn.example.com:3478?transport=udp) given time-limited credentials",
          turnUrls()),
      new Setting("ice.turn-secret", "",
          "coturn's static-auth-secret (use-auth-secret): signs each peer's TURN credential. Never logged",
          string()),
      new Setting("ice.turn-ttl", "24h", "how long a TURN credential handed out in welcome stays valid",
          duration(Duration.ofMinutes(1), Duration.ofDays(7))),
      // The media server of sfu rooms
      new Setting("media.janus-url", "",
          "WebSocket URL of the Janus (VideoRoom plugin) that sfu rooms use, ws://janus:8188/; empty: no media"
              + " server, and sfu rooms are refused",
          webSocketUrl()),
      new Setting("media.janus-api-secret", "", "Janus's api_secret (janus.jcfg), if it has one. Never logged",
          string()),
      new Setting("media.janus-admin-key", "",
          "the VideoRoom plugin's admin_key, if it has one (needed to create rooms). Never logged", string()),
      new Setting("media.request-timeout", "5s", "how long a request to Janus may wait for its answer",
          duration(Duration.ofMillis(100), Duration.ofMinutes(1))),
      new Setting("media.keepalive", "15s",
          "how often the node keeps its Janus session alive; keep it under Janus's session_timeout (60 s)",
          duration(Duration.ofSeconds(1), Duration.ofMinutes(5))),
      new Setting("metrics.enabled", "true", "serve GET /metrics (the node's, Vert.x's and the JVM's); false turns"
          + " every meter off, to measure what they cost", bool()),
      // Webhooks: room events for other services
      new Setting("webhooks.urls", "",
          "comma-separated http(s) URLs that get the room events (room_started, peer_joined, ...) as signed JSON"
              + " POSTs; empty: no webhooks", httpUrlList()),
      new Setting("webhooks.secret", "", "signs each webhook (HMAC-SHA256, header Switchboard-Signature); needed"
          + " with webhooks.urls, at least 16 bytes. Never logged", string()),
      new Setting("webhooks.events", "room_started,room_finished,peer_joined,peer_left",
          "the events sent, comma-separated, from room_started, room_finished, peer_joined, peer_left, peer_state,"
              + " publish_started, publish_stopped",
          webhookEvents()),
      new Setting("webhooks.queue", "10000", "events waiting per URL at most; more are dropped, counted and logged",
          integer(1, 1_000_000)),
      new Setting("webhooks.timeout", "5s", "how long one webhook POST may take before it is tried again",
          duration(Duration.ofMillis(100), Duration.ofMinutes(1))),
      new Setting("webhooks.max-backoff", "30s", "the longest wait between two tries of an event that failed",
          duration(Duration.ofMillis(100), Duration.ofMinutes(10))),
      new Setting("client.dir", "", "serve the demo page and client module from this directory (a checkout's "
          + "client/) instead of the copy in the jar", clientDir())
  );

  private static final Map<String, Setting> BY_NAME = new LinkedHashMap<>();

  static {
    ALL.forEach(s -> BY_NAME.put(s.name(), s));
  }

  private Settings() {
  }

  /** A shared secret: empty, or at least 32 bytes (256 bits, the strength of HMAC-SHA256). */
  private static Object secret(String s) {
    if (!s.isEmpty() && s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length < 32) {
      throw new IllegalArgumentException("must be empty or at least 32 bytes long");
    }
    return s;
  }

  /** The setting with this name, or {@code null}. */
  public static Setting byName(String name) {
    return BY_NAME.get(name);
  }
}
