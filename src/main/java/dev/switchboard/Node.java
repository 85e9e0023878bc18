package dev.switchboard;

import dev.switchboard.auth.RoomTokens;
import dev.switchboard.auth.TurnCredentials;
import dev.switchboard.cluster.ClusterBoot;
import dev.switchboard.cluster.NodeChannel;
import dev.switchboard.config.Config;
import dev.switchboard.ops.AdminApi;
import dev.switchboard.ops.Metrics;
import dev.switchboard.protocol.CloseCode;
import dev.switchboard.registry.Keys;
import dev.switchboard.registry.NodeLoad;
import dev.switchboard.registry.Placement;
import dev.switchboard.registry.Reaper;
import dev.switchboard.registry.RoomStore;
import dev.switchboard.room.Rooms;
import dev.switchboard.transport.IpLimits;
import dev.switchboard.transport.OutboundBudget;
import dev.switchboard.transport.SignalingVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Switchboard node: a clustered Vert.x, its Redis client, its clustered node address, and
 * the signaling verticles. Start order matters: the node address is registered before any
 * socket is taken, so every peer of this node is reachable from the moment it joins.
 */
public final class Node {

  private static final Logger log = LoggerFactory.getLogger(Node.class);

  /** How often idle entries leave the per-address table; it is also swept when it fills up. */
  private static final long IP_SWEEP_MS = 30_000;

  /** How long a stopping node waits for its peers' leaves to be written and announced. */
  private static final long STOP_LEAVE_TIMEOUT_MS = 3000;

  private final Config config;
  private final Vertx vertx;
  private final Redis redis;
  private final NodeChannel channel;
  private final NodeLoad load;
  private final Reaper reaper;
  private final Rooms rooms;
  private final Metrics metrics;
  private final OutboundBudget outbound;
  private final int port;

  private Node(Config config, Vertx vertx, Redis redis, NodeChannel channel, NodeLoad load, Reaper reaper,
               Rooms rooms, Metrics metrics, OutboundBudget outbound, int port) {
    this.metrics = metrics;
    this.outbound = outbound;
    this.reaper = reaper;
    this.config = config;
    this.vertx = vertx;
    this.redis = redis;
    this.channel = channel;
    this.load = load;
    this.rooms = rooms;
    this.port = port;
  }

  /** Starts a node; {@code config.redisUrl()} must name a Redis (see {@link Main} for the local one). */
  public static Future<Node> start(Config config) {
    return ClusterBoot.start(config).compose(vertx -> {
      Redis redis = Redis.createClient(vertx, new RedisOptions()
          .setConnectionString(config.redisUrl())
          .setMaxPoolSize(8)
          .setMaxPoolWaiting(4096)
          .setMaxWaitingHandlers(4096));
      Keys keys = new Keys(config.redisPrefix());
      NodeChannel channel = new NodeChannel(vertx, config.nodeId());
      AtomicReference<Rooms> roomsRef = new AtomicReference<>();
      NodeLoad load = new NodeLoad(vertx, redis, keys,
          new NodeLoad.Identity(config.nodeId(), config.publicUrl(), version(), System.currentTimeMillis()),
          config.heartbeat(), config.heartbeatTtl(), () -> roomsRef.get().localRooms());
      RoomStore store = new RoomStore(redis, keys, config.redisTimeout(), load::epoch);
      Rooms rooms = new Rooms(vertx, config.nodeId(), store, channel, config.limits(),
          new TurnCredentials(config.ice()));
      roomsRef.set(rooms);
      // A join that finds a new data epoch asks for a heartbeat now: it notices the loss and
      // starts writing the members back, instead of waiting for the next beat.
      rooms.onStaleEpoch(load::touch);
      load.onDataLost(rooms::restore);
      load.onRedisBack(rooms::reconcile);
      Placement placement = new Placement(redis, keys, config.softCapacity(), config.redisTimeout());
      // Only a node whose own heartbeats have been landing for a whole TTL judges others dead.
      Reaper reaper = new Reaper(vertx, redis, keys, store, config.nodeId(), config.heartbeat(),
          config.redisTimeout(), rooms::peerLost, () -> load.healthyForMs() >= config.heartbeatTtl().toMillis());
      AdminApi admin = new AdminApi(config.adminKey(), store, placement, rooms, config.limits().maxPeers());
      rooms.onDrain(load::drain);
      List<SignalingVerticle> verticles = new CopyOnWriteArrayList<>();
      Metrics metrics = new Metrics();
      IpLimits ipLimits = new IpLimits(config.access().ipConnections(), config.access().ipConnectRate(),
          config.access().ipConnectBurst());
      vertx.setPeriodic(IP_SWEEP_MS, id -> ipLimits.sweep(System.nanoTime() / 1_000_000));
      OutboundBudget outbound = new OutboundBudget(config.limits().nodeOutboundBytes());
      SignalingVerticle.Shared shared = new SignalingVerticle.Shared(config, rooms, load, placement, admin,
          RoomTokens.create(vertx, config.auth()), metrics, ipLimits, outbound);
      // The node address first (every peer must be reachable once it joins), then the sockets,
      // then the record in Redis (placement sends clients only to a node that takes them).
      return channel.start(rooms::route)
          .compose(v -> vertx.deployVerticle(() -> {
            SignalingVerticle verticle = new SignalingVerticle(shared);
            verticles.add(verticle);
            return verticle;
          }, new DeploymentOptions().setInstances(config.verticles())))
          .compose(id -> {
            // A node that another declared dead (it hung, or was cut off) had its peers announced
            // as lost: its room state is stale. It closes every socket so the clients reconnect
            // and join afresh, then clears the mark.
            load.onReaped(() -> {
              log.atWarn().addKeyValue("node", config.nodeId()).addKeyValue("sockets", load.connections())
                  .log("closing every socket: this node was declared dead, its room state is stale");
              verticles.forEach(v -> v.closeAll(CloseCode.GOING_AWAY, "node state lost; reconnect"));
              load.acknowledgeReaped();
            });
            reaper.start();
            return Future.succeededFuture();
          })
          .compose(v -> load.start().recover(err -> {
            log.atWarn().addKeyValue("error", err.getMessage()).log("Redis not reachable at start; continuing");
            return Future.succeededFuture();
          }))
          .map(v -> {
            int port = verticles.get(0).actualPort();
            return new Node(config.withHttpPort(port), vertx, redis, channel, load, reaper, rooms, metrics, outbound, port);
          })
          .onSuccess(node -> log.atInfo()
              .addKeyValue("node", config.nodeId())
              .addKeyValue("port", node.port)
              .addKeyValue("url", node.config.publicUrl())
              .addKeyValue("verticles", config.verticles())
              .addKeyValue("cluster", config.cluster().name())
              .log("node started"))
          .onSuccess(node -> warnIfOpen(config))
          .onSuccess(node -> {
            if (config.adminKey().isEmpty()) {
              log.atInfo().addKeyValue("node", config.nodeId())
                  .log("the admin API is off: set admin.key (SWITCHBOARD_ADMIN_KEY) to turn it on");
            }
          })
          .onFailure(err -> vertx.close());
    });
  }

  /** Says, once at start, which protections are off: an operator must not find out from an incident. */
  private static void warnIfOpen(Config config) {
    if (!config.auth().enabled()) {
      log.atWarn().addKeyValue("node", config.nodeId())
          .log("no room tokens are configured: any client may join any room (set auth.secret or auth.public-key)");
    } else {
      log.atInfo().addKeyValue("node", config.nodeId()).addKeyValue("auth", config.auth().toString())
          .log("joins need a room token");
    }
    if (config.access().allowedOrigins().contains("*")) {
      log.atWarn().addKeyValue("node", config.nodeId())
          .log("pages of any origin may open sockets (set http.allowed-origins)");
    }
  }

  /** The version in the jar's manifest, or {@code dev} when run from classes. */
  static String version() {
    String v = Node.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  public Config config() {
    return config;
  }

  public String nodeId() {
    return config.nodeId();
  }

  public int port() {
    return port;
  }

  public Vertx vertx() {
    return vertx;
  }

  public Rooms rooms() {
    return rooms;
  }

  public NodeLoad load() {
    return load;
  }

  /** Bytes written to this node's sockets that the kernel has not taken yet. */
  public OutboundBudget outbound() {
    return outbound;
  }

  /** The node's refusal counters (also at {@code GET /metrics}). */
  public Metrics metrics() {
    return metrics;
  }

  /**
   * Stops taking sockets, closes the open ones (1001), waits until their peers have left their
   * rooms (in Redis and for the other nodes), then leaves the cluster.
   */
  public Future<Void> stop() {
    log.atInfo().addKeyValue("node", config.nodeId()).log("node stopping");
    reaper.stop();
    return Future.all(vertx.deploymentIDs().stream().map(vertx::undeploy).toList())
        .<Void>mapEmpty()
        .recover(err -> Future.succeededFuture())
        .compose(v -> rooms.whenIdle(STOP_LEAVE_TIMEOUT_MS))
        .compose(v -> load.withdraw().recover(err -> Future.succeededFuture()))
        .compose(v -> channel.stop().recover(err -> Future.succeededFuture()))
        .eventually(() -> {
          redis.close();
          return vertx.close();
        });
  }
}
