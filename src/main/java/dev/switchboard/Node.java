package dev.switchboard;

import dev.switchboard.auth.Origins;
import dev.switchboard.auth.RoomTokens;
import dev.switchboard.auth.TurnCredentials;
import dev.switchboard.cluster.ClusterBoot;
import dev.switchboard.cluster.Membership;
import dev.switchboard.cluster.NodeChannel;
import dev.switchboard.config.Config;
import dev.switchboard.media.MediaServer;
import dev.switchboard.metrics.NodeMetrics;
import dev.switchboard.ops.AdminApi;
import dev.switchboard.ops.HttpRoutes;
import dev.switchboard.protocol.Codec;
import dev.switchboard.registry.Keys;
import dev.switchboard.registry.NodeRecord;
import dev.switchboard.registry.Placement;
import dev.switchboard.registry.Reaper;
import dev.switchboard.registry.RedisRoomStore;
import dev.switchboard.room.LocalRooms;
import dev.switchboard.room.PeerSessions;
import dev.switchboard.room.Recovery;
import dev.switchboard.room.Router;
import dev.switchboard.transport.IpLimits;
import dev.switchboard.transport.OutboundBudget;
import dev.switchboard.transport.Refusals;
import dev.switchboard.transport.SignalingVerticle;
import dev.switchboard.transport.SocketDrain;
import dev.switchboard.transport.SocketServices;
import dev.switchboard.webhooks.RoomEvents;
import dev.switchboard.webhooks.Webhooks;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Switchboard node: the object graph, built once in {@link #start} in dependency order, and
 * the start and stop sequences. Start order matters: the node address is registered before any
 * socket is taken, so every peer of this node is reachable from the moment it joins; the record
 * in Redis comes last, so placement sends clients only to a node that takes them.
 */
public final class Node {

  private static final Logger log = LoggerFactory.getLogger(Node.class);

  /** How often idle entries leave the per-address table; it is also swept when it fills up. */
  private static final long IP_SWEEP_MS = 30_000;

  /** How often a draining node looks whether it is empty. */
  private static final long DRAIN_POLL_MS = 100;
  /** How long a drained node still forwards what other nodes sent it before the moves reached them. */
  private static final long HANDOFF_GRACE_MS = 1000;

  /** How long a stopping node waits for its peers' leaves to be written and announced. */
  private static final long STOP_LEAVE_TIMEOUT_MS = 3000;
  /** How long a stopping node waits for its last webhook events (its peers' leaves) to go out. */
  private static final long WEBHOOK_FLUSH_MS = 5_000;

  private final Config config;
  private final Vertx vertx;
  private final Membership membership;
  private final Redis redis;
  private final NodeChannel channel;
  private final NodeRecord record;
  private final Reaper reaper;
  private final LocalRooms rooms;
  private final PeerSessions sessions;
  private final Recovery recovery;
  private final Refusals refusals;
  private final OutboundBudget outbound;
  private final SocketServices sockets;
  private final HttpRoutes routes;
  private final Router router;
  private final SocketDrain socketDrain = new SocketDrain();
  private final MediaServer media;
  private final NodeMetrics metrics;
  /** Room events for other services; null when no webhook URL is configured. */
  private final Webhooks webhooks;
  /** The port the HTTP server is bound to, once started (useful when {@code http.port} is 0). */
  private volatile int port;
  /** The stop in progress or done: stopping twice waits for the same stop. */
  private Future<Void> stopped;

  /** Builds the node's parts on a started clustered Vert.x; nothing runs until {@link #run}. */
  private Node(Config config, Vertx vertx, Membership membership, NodeMetrics metrics) {
    this.config = config;
    this.metrics = metrics;
    this.vertx = vertx;
    this.membership = membership;
    this.redis = Redis.createClient(vertx, new RedisOptions()
        .setConnectionString(config.redisUrl())
        .setMaxPoolSize(8)
        .setMaxPoolWaiting(4096)
        .setMaxWaitingHandlers(4096));
    Keys keys = new Keys(config.redisPrefix());
    this.rooms = new LocalRooms();
    this.record = new NodeRecord(vertx, redis, keys,
        new NodeRecord.Identity(config.nodeId(), config.publicUrl(), version(), System.currentTimeMillis()),
        config.heartbeat(), config.heartbeatTtl(), rooms::size);
    RedisRoomStore store = new RedisRoomStore(redis, keys, config.redisTimeout(), record::epoch, metrics::redis);
    this.channel = new NodeChannel(vertx, config.nodeId());
    this.webhooks = config.webhooks().enabled()
        ? new Webhooks(vertx, config.webhooks(), config.nodeId(), metrics) : null;
    this.router = new Router(config.nodeId(), channel::send, rooms, membership::contains, this::drain, this::undrain,
        metrics, webhooks != null ? webhooks : RoomEvents.NONE);
    this.media = new MediaServer(vertx, config.media(), config.nodeId());
    // A join that finds a new data epoch asks for a heartbeat now: it notices the loss and
    // starts writing the members back, instead of waiting for the next beat.
    this.sessions = new PeerSessions(router, store, rooms, config.limits(), new TurnCredentials(config.ice()),
        media, record::touch);
    this.recovery = new Recovery(vertx, router, store, rooms, config.heartbeatTtl(), channel::reachable, media);
    // Only a node whose own heartbeats have been landing for a whole TTL judges others dead.
    this.reaper = new Reaper(vertx, redis, keys, store, config.nodeId(), config.heartbeat(), config.redisTimeout(),
        config.limits().resumeWindow(), recovery::peerLost, () -> record.healthyForMs() >= config.heartbeatTtl().toMillis(),
        () -> record.reapedWithin(config.heartbeatTtl().toMillis() * 2));
    Placement placement = new Placement(redis, keys, config.softCapacity(), config.redisTimeout());
    this.refusals = new Refusals();
    refusals.register(metrics.registry());
    media.counters().register(metrics.registry());
    this.outbound = new OutboundBudget(config.limits().nodeOutboundBytes());
    IpLimits ipLimits = new IpLimits(config.access().ipConnections(), config.access().ipConnectRate(),
        config.access().ipConnectBurst());
    this.sockets = new SocketServices(config, sessions,
        new Codec(config.limits().metaBytes(), config.limits().stateBytes()), record,
        RoomTokens.create(vertx, config.auth()), refusals, ipLimits,
        new Origins(config.access().allowedOrigins(), config.publicUrl()), outbound, placement, socketDrain);
    AdminApi admin = new AdminApi(config.adminKey(), store, placement, router, media, config.limits().maxPeers());
    this.routes = new HttpRoutes(config, record, sessions, rooms, placement, admin, metrics, outbound, channel,
        media);
  }

  /** Starts a node; {@code config.redisUrl()} must name a Redis (see {@link Main} for the local one). */
  public static Future<Node> start(Config config) {
    return ClusterBoot.start(config, new NodeMetrics(config.metricsEnabled())).compose(cluster -> {
      Node node;
      try {
        node = new Node(config, cluster.vertx(), cluster.membership(), cluster.metrics());
      } catch (RuntimeException e) {
        return cluster.vertx().close().compose(v -> Future.failedFuture(e));
      }
      return node.run().onFailure(err -> cluster.vertx().close());
    });
  }

  /** The node address first, then the sockets, then the record in Redis. */
  private Future<Node> run() {
    List<SignalingVerticle> verticles = new CopyOnWriteArrayList<>();
    vertx.setPeriodic(IP_SWEEP_MS, id -> sockets.ipLimits().sweep(System.nanoTime() / 1_000_000));
    return channel.start(router)
        .compose(v -> vertx.deployVerticle(() -> {
          SignalingVerticle verticle = new SignalingVerticle(sockets, routes::router);
          verticles.add(verticle);
          return verticle;
        }, new DeploymentOptions().setInstances(config.verticles())))
        .compose(id -> {
          port = verticles.get(0).actualPort();
          reaper.start();
          // A heartbeat at once says "alive" to a node that may be deciding whether this one is
          // dead or only cut off (Reaper.nodeLeft).
          membership.listen(vertx.getOrCreateContext(), (left, members) -> {
            record.touch();
            sessions.nodeLost(left);
            reaper.nodeLeft(left, members);
          });
          return media.start().compose(m -> record.start(recovery)).recover(err -> {
            log.atWarn().addKeyValue("error", err.getMessage()).log("Redis not reachable at start; continuing");
            return Future.succeededFuture();
          });
        })
        .map(v -> this)
        .onSuccess(node -> logStarted());
  }

  private void logStarted() {
    log.atInfo()
        .addKeyValue("node", config.nodeId())
        .addKeyValue("port", port)
        .addKeyValue("url", config().publicUrl())
        .addKeyValue("verticles", config.verticles())
        .addKeyValue("cluster", config.cluster().name())
        .addKeyValue("wireVersion", config.cluster().wireVersion())
        .log("node started");
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
    if (config.adminKey().isEmpty()) {
      log.atInfo().addKeyValue("node", config.nodeId())
          .log("the admin API is off: set admin.key (SWITCHBOARD_ADMIN_KEY) to turn it on");
    }
  }

  /** The version in the jar's manifest, or {@code dev} when run from classes. */
  static String version() {
    String v = Node.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  /** The configuration, with the port the node is bound to. */
  public Config config() {
    return config.withHttpPort(port);
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

  /** The sessions of this node's sockets. */
  public PeerSessions sessions() {
    return sessions;
  }

  /** The rooms this node holds members of. */
  public LocalRooms rooms() {
    return rooms;
  }

  /** This node's record and load in Redis. */
  public NodeRecord record() {
    return record;
  }

  /** The transport to the other nodes, and its counters. */
  public NodeChannel channel() {
    return channel;
  }

  /** Bytes written to this node's sockets that the kernel has not taken yet. */
  public OutboundBudget outbound() {
    return outbound;
  }

  /** The node's refusal counters (also at {@code GET /metrics}). */
  public Refusals refusals() {
    return refusals;
  }

  /**
   * Drains: placement skips the node, new sockets are refused (503 naming a better node), and the
   * open ones are asked to reconnect elsewhere and resume there, spread over
   * {@code node.drain-period} ({@link SocketDrain}). The node stays up: {@link #undrain} takes it
   * back, {@link #drainThenStop} is what a rolling update wants.
   */
  public void drain() {
    record.drain();
    socketDrain.start(config.drain().period());
  }

  /** Takes new sockets again; sockets not yet asked to move stay. */
  public void undrain() {
    socketDrain.stop();
    record.undrain();
  }

  /**
   * Drains, waits until no socket is left and every peer that was here has resumed elsewhere (or
   * left), or for {@code node.drain-timeout} at most, then {@link #stop}s: what SIGTERM does. A
   * short grace after the last hand-over lets what other nodes had already sent here be forwarded.
   */
  public Future<Void> drainThenStop() {
    long started = System.nanoTime();
    drain();
    Promise<Void> drained = Promise.promise();
    long deadline = started + config.drain().timeout().toNanos();
    vertx.setPeriodic(DRAIN_POLL_MS, id -> {
      boolean empty = record.connections() == 0 && sessions.active() == 0;
      if (empty || System.nanoTime() >= deadline) {
        vertx.cancelTimer(id);
        log.atInfo().addKeyValue("node", config.nodeId()).addKeyValue("ms", (System.nanoTime() - started) / 1_000_000)
            .addKeyValue("socketsLeft", record.connections()).addKeyValue("peersLeft", sessions.active())
            .log(empty ? "drained" : "drain timed out; closing what is left");
        vertx.setTimer(empty ? HANDOFF_GRACE_MS : 1, t -> drained.complete());
      }
    });
    return drained.future().compose(v -> stop());
  }

  /**
   * Stops taking sockets, closes the open ones (1001), waits until their peers have left their
   * rooms (in Redis and for the other nodes), then leaves the cluster. A second call returns the
   * first one's future.
   */
  public synchronized Future<Void> stop() {
    if (stopped != null) {
      return stopped;
    }
    log.atInfo().addKeyValue("node", config.nodeId()).log("node stopping");
    reaper.stop();
    membership.stop();
    sessions.stopping();
    stopped = Future.all(vertx.deploymentIDs().stream().map(vertx::undeploy).toList())
        .<Void>mapEmpty()
        .recover(err -> Future.succeededFuture())
        .compose(v -> sessions.whenIdle(STOP_LEAVE_TIMEOUT_MS))
        .compose(v -> record.withdraw().recover(err -> Future.succeededFuture()))
        .compose(v -> channel.stop().recover(err -> Future.succeededFuture()))
        .compose(v -> media.stop().recover(err -> Future.succeededFuture()))
        .compose(v -> webhooks == null ? Future.<Void>succeededFuture() : webhooks.flushed(vertx, WEBHOOK_FLUSH_MS))
        .eventually(() -> {
          // What is still waiting for a webhook receiver now is lost with the node (counted as queued).
          if (webhooks != null) {
            webhooks.stop();
          }
          redis.close();
          return vertx.close();
        });
    return stopped;
  }
}
