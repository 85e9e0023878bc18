package dev.switchboard.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The node's configuration: loaded once, immutable, passed to whatever needs it. Nothing else
 * reads the environment or the command line.
 */
public record Config(
    String httpHost,
    int httpPort,
    String nodeId,
    String publicUrl,
    Duration heartbeat,
    Duration heartbeatTtl,
    int softCapacity,
    int hardCapacity,
    int verticles,
    Drain drain,
    String redisUrl,
    String redisPrefix,
    Duration redisTimeout,
    Cluster cluster,
    Limits limits,
    Access access,
    Auth auth,
    Ice ice,
    Media media,
    Webhooks webhooks,
    boolean metricsEnabled,
    String clientDir,
    String adminKey) {

  /**
   * Room events POSTed to other services: to each of {@code urls} (none: off), signed with
   * {@code secret}, the {@code events} named, at most {@code queue} waiting per URL, each POST
   * given {@code timeout}, tried again with backoff up to {@code maxBackoff} (docs/operations.md).
   */
  public record Webhooks(List<String> urls, String secret, List<String> events, int queue, Duration timeout,
                         Duration maxBackoff) {
    /** The events a node sends, as {@code webhooks.events} names them. */
    public static final List<String> EVENTS = List.of("room_started", "room_finished", "peer_joined", "peer_left",
        "peer_state", "publish_started", "publish_stopped");

    public boolean enabled() {
      return !urls.isEmpty();
    }

    @Override
    public String toString() {
      return "Webhooks[urls=" + urls + ", secret=" + (secret.isEmpty() ? "none" : "set") + ", events=" + events
          + ", queue=" + queue + "]";
    }
  }

  /**
   * The media server of {@code sfu} rooms: a Janus's WebSocket URL (empty: none), its API secret
   * and the VideoRoom's admin key (each empty if it has none), how long a request may wait for
   * its answer, and how often the session is kept alive. The secrets never reach a log.
   */
  public record Media(String janusUrl, String apiSecret, String adminKey, Duration requestTimeout,
                      Duration keepalive) {

    /** Whether a media server is configured. */
    public boolean enabled() {
      return !janusUrl.isEmpty();
    }

    @Override
    public String toString() {
      return "Media[" + (enabled() ? janusUrl : "none") + ", apiSecret=" + (apiSecret.isEmpty() ? "none" : "set")
          + ", adminKey=" + (adminKey.isEmpty() ? "none" : "set") + "]";
    }
  }

  /**
   * Drain by migration: the reconnects of a draining node's clients are spread over
   * {@code period}; a node stopping on SIGTERM exits after {@code timeout} at most.
   */
  public record Drain(Duration period, Duration timeout) {
  }

  /** Who may open a socket: page origins, and how a client's address is told. */
  public record Access(List<String> allowedOrigins, List<Cidr> trustedProxies, int ipConnections,
                       int ipConnectRate, int ipConnectBurst) {
  }

  /** Room tokens: an HS256 secret and/or a public key, and the claims every token must carry. */
  public record Auth(String secret, PublicKeyPem publicKey, String issuer, String audience, Duration clockSkew) {

    /** True when joins need a token. */
    public boolean enabled() {
      return !secret.isEmpty() || publicKey.isPresent();
    }

    @Override
    public String toString() {
      return "Auth[" + (secret.isEmpty() ? "" : "HS256 ") + publicKey + "]";
    }
  }

  /** ICE servers for welcome: static entries, and TURN URIs given per-peer REST API credentials. */
  public record Ice(JsonArray servers, List<String> turnUrls, String turnSecret, Duration turnTtl) {

    @Override
    public String toString() {
      return "Ice[" + servers.size() + " static, " + turnUrls.size() + " TURN]";
    }
  }

  /** Where the node meets the other nodes. */
  public record Cluster(String name, String host, int port, List<String> members, int busPort,
                        String configFile, int wireVersion) {
  }

  /** Protocol and abuse limits; see {@link Settings} for what each one means. */
  public record Limits(
      int frameBytes,
      int metaBytes,
      int stateBytes,
      int maxPeers,
      int rate,
      int rateBurst,
      Duration rateCloseAfter,
      Duration joinTimeout,
      Duration ackTimeout,
      int writeQueueBytes,
      Duration slowConsumerTimeout,
      int outboundBytes,
      long nodeOutboundBytes,
      Duration pingInterval,
      Duration pongTimeout,
      Duration resumeWindow,
      int resumeBufferMessages,
      int resumeBufferBytes) {

    /** The limits a client is told about in {@code welcome.limits}. */
    public JsonObject toClientJson() {
      return new JsonObject()
          .put("frameBytes", frameBytes)
          .put("metaBytes", metaBytes)
          .put("stateBytes", stateBytes)
          .put("maxPeers", maxPeers)
          .put("rate", rate)
          .put("rateBurst", rateBurst)
          .put("resumeWindowMs", resumeWindow.toMillis());
    }
  }

  /** Keeps the admin key out of logs and stack traces. */
  @Override
  public String toString() {
    return "Config[node=" + nodeId + ", http=" + httpHost + ":" + httpPort + ", cluster=" + cluster.name()
        + ", admin=" + (adminKey.isEmpty() ? "off" : "on") + ", auth=" + (auth.enabled() ? "on" : "off") + "]";
  }

  /** True when no Redis is configured and the node starts one itself. */
  public boolean embeddedRedis() {
    return redisUrl.isEmpty();
  }

  /** A copy with another Redis URL (used once the local Redis has a port). */
  public Config withRedisUrl(String url) {
    return new Config(httpHost, httpPort, nodeId, publicUrl, heartbeat, heartbeatTtl, softCapacity, hardCapacity,
        verticles, drain, url, redisPrefix, redisTimeout, cluster, limits, access, auth, ice, media, webhooks,
        metricsEnabled, clientDir, adminKey);
  }

  /** A copy with another HTTP port (used once an ephemeral port is bound). */
  public Config withHttpPort(int port) {
    String url = publicUrl.equals("http://127.0.0.1:" + httpPort) ? "http://127.0.0.1:" + port : publicUrl;
    return new Config(httpHost, port, nodeId, url, heartbeat, heartbeatTtl, softCapacity, hardCapacity,
        verticles, drain, redisUrl, redisPrefix, redisTimeout, cluster, limits, access, auth, ice, media, webhooks,
        metricsEnabled, clientDir, adminKey);
  }

  /** Builds the typed configuration from parsed setting values, filling derived defaults. */
  static Config from(Map<String, Object> v) {
    int port = (Integer) v.get("http.port");
    String nodeId = (String) v.get("node.id");
    if (nodeId.isEmpty()) {
      nodeId = "node-" + UUID.randomUUID().toString().substring(0, 8);
    }
    String publicUrl = (String) v.get("node.public-url");
    if (publicUrl.isEmpty()) {
      publicUrl = "http://127.0.0.1:" + port;
    }
    Duration heartbeat = (Duration) v.get("node.heartbeat");
    Duration heartbeatTtl = (Duration) v.get("node.heartbeat-ttl");
    if (heartbeatTtl.compareTo(heartbeat.multipliedBy(2)) < 0) {
      throw new ConfigException("invalid node.heartbeat-ttl: must be at least twice node.heartbeat ("
          + heartbeat.toMillis() + "ms), so one late heartbeat does not declare the node dead; got "
          + heartbeatTtl.toMillis() + "ms");
    }
    int soft = (Integer) v.get("node.soft-capacity");
    int hard = (Integer) v.get("node.hard-capacity");
    if (soft > hard) {
      throw new ConfigException("invalid node.soft-capacity: must not exceed node.hard-capacity (" + hard
          + "); got " + soft);
    }
    int verticles = (Integer) v.get("node.verticles");
    if (verticles == 0) {
      verticles = Runtime.getRuntime().availableProcessors();
    }
    Drain drain = new Drain((Duration) v.get("node.drain-period"), (Duration) v.get("node.drain-timeout"));
    if (drain.timeout().compareTo(drain.period()) < 0) {
      throw new ConfigException("invalid node.drain-timeout: must be at least node.drain-period ("
          + drain.period().toMillis() + "ms), or a stopping node exits before it asked every client to move; got "
          + drain.timeout().toMillis() + "ms");
    }
    @SuppressWarnings("unchecked")
    List<String> members = (List<String>) v.get("cluster.members");
    Limits limits = new Limits(
        (Integer) v.get("limits.frame-bytes"),
        (Integer) v.get("limits.meta-bytes"),
        (Integer) v.get("limits.state-bytes"),
        (Integer) v.get("limits.max-peers"),
        (Integer) v.get("limits.rate"),
        (Integer) v.get("limits.rate-burst"),
        (Duration) v.get("limits.rate-close-after"),
        (Duration) v.get("limits.join-timeout"),
        (Duration) v.get("limits.ack-timeout"),
        (Integer) v.get("limits.write-queue-bytes"),
        (Duration) v.get("limits.slow-consumer-timeout"),
        (Integer) v.get("limits.outbound-bytes"),
        ((Integer) v.get("limits.node-outbound-bytes")).longValue(),
        (Duration) v.get("limits.ping-interval"),
        (Duration) v.get("limits.pong-timeout"),
        (Duration) v.get("limits.resume-window"),
        (Integer) v.get("limits.resume-buffer"),
        (Integer) v.get("limits.resume-buffer-bytes"));
    if (limits.outboundBytes() < limits.writeQueueBytes()) {
      throw new ConfigException("invalid limits.outbound-bytes: must be at least limits.write-queue-bytes ("
          + limits.writeQueueBytes() + "); got " + limits.outboundBytes());
    }
    if (limits.pongTimeout().compareTo(limits.pingInterval()) <= 0) {
      throw new ConfigException("invalid limits.pong-timeout: must be longer than limits.ping-interval ("
          + limits.pingInterval().toMillis() + "ms), or a healthy socket is closed between two pings; got "
          + limits.pongTimeout().toMillis() + "ms");
    }
    @SuppressWarnings("unchecked")
    Access access = new Access(
        (List<String>) v.get("http.allowed-origins"),
        (List<Cidr>) v.get("http.trusted-proxies"),
        (Integer) v.get("limits.ip-connections"),
        (Integer) v.get("limits.ip-connect-rate"),
        (Integer) v.get("limits.ip-connect-burst"));
    Auth auth = new Auth((String) v.get("auth.secret"), (PublicKeyPem) v.get("auth.public-key"),
        (String) v.get("auth.issuer"), (String) v.get("auth.audience"), (Duration) v.get("auth.clock-skew"));
    @SuppressWarnings("unchecked")
    List<String> turnUrls = (List<String>) v.get("ice.turn-urls");
    String turnSecret = (String) v.get("ice.turn-secret");
    if (!turnUrls.isEmpty() && turnSecret.isEmpty()) {
      throw new ConfigException("invalid ice.turn-urls: TURN URIs need ice.turn-secret to sign credentials");
    }
    Ice ice = new Ice((JsonArray) v.get("ice.servers"), turnUrls, turnSecret, (Duration) v.get("ice.turn-ttl"));
    Media media = new Media((String) v.get("media.janus-url"), (String) v.get("media.janus-api-secret"),
        (String) v.get("media.janus-admin-key"), (Duration) v.get("media.request-timeout"),
        (Duration) v.get("media.keepalive"));
    Cluster cluster = new Cluster(
        (String) v.get("cluster.name"),
        (String) v.get("cluster.host"),
        (Integer) v.get("cluster.port"),
        members,
        (Integer) v.get("cluster.bus-port"),
        (String) v.get("cluster.config"),
        (Integer) v.get("cluster.wire-version"));
    return new Config(
        (String) v.get("http.host"), port, nodeId, publicUrl, heartbeat, heartbeatTtl, soft, hard, verticles, drain,
        (String) v.get("redis.url"), (String) v.get("redis.prefix"), (Duration) v.get("redis.timeout"),
        cluster, limits, access, auth, ice, media, webhooks(v), (Boolean) v.get("metrics.enabled"),
        (String) v.get("client.dir"), (String) v.get("admin.key"));
  }

  @SuppressWarnings("unchecked")
  private static Webhooks webhooks(Map<String, Object> v) {
    List<String> urls = (List<String>) v.get("webhooks.urls");
    String secret = (String) v.get("webhooks.secret");
    if (!urls.isEmpty() && secret.getBytes(java.nio.charset.StandardCharsets.UTF_8).length < 16) {
      throw new ConfigException("invalid webhooks.urls: webhooks are signed: set webhooks.secret (at least 16 bytes)");
    }
    return new Webhooks(urls, secret, (List<String>) v.get("webhooks.events"), (Integer) v.get("webhooks.queue"),
        (Duration) v.get("webhooks.timeout"), (Duration) v.get("webhooks.max-backoff"));
  }
}
