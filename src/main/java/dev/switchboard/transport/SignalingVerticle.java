package dev.switchboard.transport;

import dev.switchboard.auth.Origins;
import dev.switchboard.auth.RoomTokens;
import dev.switchboard.config.Config;
import dev.switchboard.ops.Metrics;
import dev.switchboard.ops.Metrics.Refusal;
import dev.switchboard.ops.AdminApi;
import dev.switchboard.protocol.CloseCode;
import dev.switchboard.protocol.Codec;
import dev.switchboard.protocol.Ids;
import dev.switchboard.registry.NodeLoad;
import dev.switchboard.registry.Placement;
import dev.switchboard.room.Rooms;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.FileSystemAccess;
import io.vertx.ext.web.handler.StaticHandler;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves WebSockets at {@code /ws} and the node's HTTP routes. One instance per event loop; all
 * instances listen on the same port and Vert.x spreads new connections among them.
 */
public final class SignalingVerticle extends VerticleBase {

  public static final String WS_PATH = "/ws";
  /**
   * How long a socket the node closes may take to answer the close frame before its TCP
   * connection is dropped. A live browser answers in a round trip; a dead or stalled one never
   * does, and holds its buffers until then.
   */
  static final int CLOSE_HANDSHAKE_SECONDS = 3;
  /** What a full node tells a client to wait before trying again. */
  static final int RETRY_AFTER_SECONDS = 5;

  private static final Logger log = LoggerFactory.getLogger(SignalingVerticle.class);
  /** Where the build puts client/demo and client/src on the class path (see pom.xml). */
  static final String BUILT_IN_CLIENT = "switchboard-client";

  private final Config config;
  private final Rooms rooms;
  private final NodeLoad load;
  private final Placement placement;
  private final AdminApi admin;
  private final Shared shared;
  private SocketServices services;
  private final IpLimits ipLimits;
  private final Origins origins;
  private HttpServer server;
  /** The sockets of this verticle; touched only on its event loop. */
  private final Set<Connection> open = new HashSet<>();

  /** Everything a node's verticles share; each verticle is one event loop's HTTP server. */
  public record Shared(Config config, Rooms rooms, NodeLoad load, Placement placement, AdminApi admin,
                       RoomTokens tokens, Metrics metrics, IpLimits ipLimits, OutboundBudget outbound) {
  }

  public SignalingVerticle(Shared shared) {
    this.config = shared.config();
    this.rooms = shared.rooms();
    this.load = shared.load();
    this.placement = shared.placement();
    this.admin = shared.admin();
    this.ipLimits = shared.ipLimits();
    this.origins = new Origins(config.access().allowedOrigins(), config.publicUrl());
    this.shared = shared;
  }

  @Override
  public Future<?> start() {
    Config.Limits limits = config.limits();
    services = new SocketServices(vertx, rooms, new Codec(limits.metaBytes(), limits.stateBytes()), load, limits,
        shared.tokens(), shared.metrics(), shared.outbound());
    vertx.setPeriodic(limits.pingInterval().toMillis(), id -> {
      long now = Connection.now();
      for (Connection c : List.copyOf(open)) {
        c.heartbeat(now);
      }
    });
    HttpServerOptions options = new HttpServerOptions()
        .setHost(config.httpHost())
        .setPort(config.httpPort())
        .setMaxWebSocketFrameSize(limits.frameBytes())
        .setMaxWebSocketMessageSize(limits.frameBytes())
        .setWebSocketClosingTimeout(CLOSE_HANDSHAKE_SECONDS);
    Router router = router();
    // Upgrades are taken before the router: vertx-web would wrap the socket, and the connection
    // needs Vert.x's own socket to drop a TCP connection that never finishes its close handshake.
    server = vertx.createHttpServer(options).requestHandler(req -> {
      if (WS_PATH.equals(req.path()) && req.method() == HttpMethod.GET) {
        upgrade(req);
      } else {
        router.handle(req);
      }
    });
    return server.listen();
  }

  /** Closes this verticle's sockets with 1001 (their peers leave their rooms), then the server. */
  @Override
  public Future<?> stop() {
    for (Connection c : List.copyOf(open)) {
      c.close(CloseCode.GOING_AWAY, "node shutting down");
    }
    return server.shutdown(1, TimeUnit.SECONDS);
  }

  /** Closes every socket of this verticle (on its own event loop); their peers leave their rooms. */
  public void closeAll(short code, String reason) {
    context.runOnContext(v -> {
      for (Connection c : List.copyOf(open)) {
        c.close(code, reason);
      }
    });
  }

  /** The bound port (useful when {@code http.port} is 0). */
  public int actualPort() {
    return server.actualPort();
  }

  /**
   * Upgrades {@code GET /ws} to a WebSocket, unless this node is at its hard capacity: then 503
   * with {@code Retry-After} and, when there is one, a node that can take the connection.
   */
  private void upgrade(HttpServerRequest req) {
    if (!req.canUpgradeToWebSocket()) {
      HttpJson.send(req.response(), 400, HttpJson.body("bad-request", "GET /ws must be a WebSocket upgrade"));
      return;
    }
    String origin = req.getHeader("Origin");
    if (!origins.allows(origin)) {
      refuse(req, Refusal.ORIGIN, 403, "origin-not-allowed",
          "pages of this origin may not open sockets here (http.allowed-origins)", origin);
      return;
    }
    if (load.connections() >= config.hardCapacity()) {
      shared.metrics().count(Refusal.NODE_FULL);
      req.pause();
      placement.choose(null, config.nodeId()).onComplete(ar -> {
        JsonObject body = HttpJson.body("full", "this node is at capacity; connect to the node named here, or retry");
        if (ar.succeeded()) {
          ar.result().ifPresent(c -> body.put("node", c.node()).put("url", c.url()));
        }
        req.response().putHeader("Retry-After", Integer.toString(RETRY_AFTER_SECONDS));
        HttpJson.send(req.response(), 503, body);
      });
      return;
    }
    String address = ClientAddress.of(req, config.access().trustedProxies());
    Refusal refusal = ipLimits.acquire(address, Connection.now());
    if (refusal != null) {
      req.response().putHeader("Retry-After", "1");
      refuse(req, refusal, refusal == Refusal.IP_TABLE_FULL ? 503 : 429, "too-many-connections",
          refusal == Refusal.IP_RATE ? "too many new sockets from this address; retry in a second"
              : refusal == Refusal.IP_CONNECTIONS ? "too many open sockets from this address"
              : "the node tracks too many client addresses; retry", address);
      return;
    }
    req.toWebSocket().onComplete(ar -> {
      if (ar.failed()) {
        ipLimits.release(address);
        return;
      }
      open.add(new Connection(services, ar.result(), c -> {
        open.remove(c);
        ipLimits.release(address);
      }));
    });
  }

  /** Refuses an upgrade with {@code status} and a JSON body, counts it and logs it for the operator. */
  private void refuse(HttpServerRequest req, Refusal why, int status, String code, String message, String subject) {
    shared.metrics().count(why);
    // Debug, not info: a flood of refusals must not become a flood of log lines; /metrics counts them.
    log.atDebug().addKeyValue("reason", why.label()).addKeyValue("status", status)
        .addKeyValue("remote", String.valueOf(req.remoteAddress()))
        .addKeyValue("subject", subject).log("socket refused");
    HttpJson.send(req.response(), status, HttpJson.body(code, message));
  }

  /** {@code GET /metrics}: the node's counters and gauges in the Prometheus text format. */
  private void metrics(RoutingContext ctx) {
    ctx.response().putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        .end(shared.metrics().prometheus(load.connections(), rooms.localPeers(), rooms.localRooms(),
            shared.outbound().bytes()));
  }

  /** {@code GET /v1/placement?room=R}: the node a client should connect to. */
  private void placement(RoutingContext ctx) {
    String room = ctx.request().getParam("room");
    if (room != null && !Ids.isValid(room)) {
      HttpJson.send(ctx, 400, HttpJson.body("bad-request", "room must match [A-Za-z0-9._-]{1,64}"));
      return;
    }
    placement.choose(room, null).onComplete(ar -> {
      if (ar.failed()) {
        HttpJson.send(ctx, 503, HttpJson.body("unavailable", "placement needs Redis, which did not answer; retry"));
      } else if (ar.result().isEmpty()) {
        HttpJson.send(ctx, 503, HttpJson.body("unavailable", "no active node can take a connection"));
      } else {
        Placement.Choice c = ar.result().get();
        HttpJson.send(ctx, 200, new JsonObject().put("node", c.node()).put("url", c.url()).put("connections", c.connections()));
      }
    });
  }


  private Router router() {
    Router router = Router.router(vertx);
    router.get("/health").handler(this::health);
    router.get("/ready").handler(this::ready);
    router.get("/metrics").handler(this::metrics);
    router.get("/v1/placement").handler(this::placement);
    admin.mount(router);
    mountClient(router);
    router.route().last().handler(ctx -> HttpJson.send(ctx, 404, new JsonObject().put("error", "not-found")
        .put("message", "no such path: " + ctx.request().path())));
    // Never a stack trace to a client: failures become a JSON status, the cause goes to the log.
    router.route().failureHandler(ctx -> {
      int status = ctx.statusCode() > 0 ? ctx.statusCode() : 500;
      if (status >= 500) {
        log.atError().addKeyValue("path", ctx.request().path()).setCause(ctx.failure()).log("HTTP request failed");
      }
      HttpJson.send(ctx, status, new JsonObject().put("error", status >= 500 ? "internal" : "bad-request")
          .put("message", status >= 500 ? "the node failed to answer; retry" : "the request was not understood"));
    });
    return router;
  }

  /**
   * The browser client: the demo page at {@code /}, its files under {@code /demo/}, and the
   * client module under {@code /src/}. Nothing else of {@code client/} (tests, node_modules) is
   * served. By default the copy packed into the jar; with {@code client.dir}, that directory,
   * so edits show on reload.
   */
  private void mountClient(Router router) {
    String dir = config.clientDir();
    for (String part : List.of("demo", "src")) {
      StaticHandler files;
      if (dir.isEmpty()) {
        files = StaticHandler.create(BUILT_IN_CLIENT + "/" + part);
      } else {
        files = StaticHandler.create(FileSystemAccess.ROOT, Path.of(dir, part).toAbsolutePath().toString())
            .setCachingEnabled(false);
      }
      router.get("/" + part + "/*").handler(files.setDirectoryListing(false));
    }
    router.get("/").handler(ctx -> ctx.reroute("/demo/index.html"));
  }

  /**
   * Readiness: 200 when the node can take new peers (Redis answers and it is not draining),
   * else 503. Peers already in rooms keep signaling either way: liveness is {@code /health}.
   */
  private void ready(RoutingContext ctx) {
    boolean redis = load.redisUp();
    boolean active = "active".equals(load.state());
    HttpJson.send(ctx, redis && active ? 200 : 503, new JsonObject()
        .put("ready", redis && active)
        .put("redis", redis ? "up" : "down")
        .put("state", load.state()));
  }

  private void health(RoutingContext ctx) {
    HttpJson.send(ctx, 200, new JsonObject()
        .put("status", "up")
        .put("redis", load.redisUp() ? "up" : "down")
        .put("state", load.state())
        .put("node", config.nodeId())
        .put("connections", load.connections())
        .put("peers", rooms.localPeers())
        .put("rooms", rooms.localRooms()));
  }

}
