package dev.switchboard.transport;

import dev.switchboard.config.Config;
import dev.switchboard.protocol.CloseCode;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One event loop's HTTP server: WebSockets at {@code /ws}, every other request to the node's
 * HTTP routes. All instances listen on the same port and Vert.x spreads new connections among
 * them. The upgrade is refused, with a JSON body, for a disallowed origin, a full node, or an
 * address over its limits.
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

  private final SocketServices services;
  private final Config config;
  private final Function<Vertx, Handler<HttpServerRequest>> routes;
  private HttpServer server;
  /** The sockets of this verticle; touched only on its event loop. */
  private final Set<Connection> open = new HashSet<>();

  /** {@code routes} makes the handler of every request that is not an upgrade (once per verticle). */
  public SignalingVerticle(SocketServices services, Function<Vertx, Handler<HttpServerRequest>> routes) {
    this.services = services;
    this.config = services.config();
    this.routes = routes;
  }

  @Override
  public Future<?> start() {
    services.drain().register(context, open);
    Config.Limits limits = config.limits();
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
    Handler<HttpServerRequest> other = routes.apply(vertx);
    // Upgrades are taken before the routes: vertx-web would wrap the socket, and the connection
    // needs Vert.x's own socket to drop a TCP connection that never finishes its close handshake.
    server = vertx.createHttpServer(options).requestHandler(req -> {
      if (WS_PATH.equals(req.path()) && req.method() == HttpMethod.GET) {
        upgrade(req);
      } else {
        other.handle(req);
      }
    });
    return server.listen();
  }

  /** Closes this verticle's sockets with 1001 (their peers leave their rooms), then the server. */
  @Override
  public Future<?> stop() {
    services.drain().unregister(context);
    for (Connection c : List.copyOf(open)) {
      c.close(CloseCode.GOING_AWAY, "node shutting down");
    }
    return server.shutdown(1, TimeUnit.SECONDS);
  }

  /** The bound port (useful when {@code http.port} is 0). */
  public int actualPort() {
    return server.actualPort();
  }

  /**
   * Upgrades {@code GET /ws} to a WebSocket, unless this node is draining or at its hard capacity: then 503
   * with {@code Retry-After} and, when there is one, a node that can take the connection.
   */
  private void upgrade(HttpServerRequest req) {
    if (!req.canUpgradeToWebSocket()) {
      HttpJson.send(req.response(), 400, HttpJson.body("bad-request", "GET /ws must be a WebSocket upgrade"));
      return;
    }
    String origin = req.getHeader("Origin");
    if (!services.origins().allows(origin)) {
      refuse(req, Refusal.ORIGIN, 403, "origin-not-allowed",
          "pages of this origin may not open sockets here (http.allowed-origins)", origin);
      return;
    }
    boolean draining = services.record().draining();
    if (draining || services.record().connections() >= config.hardCapacity()) {
      services.refusals().count(draining ? Refusal.DRAINING : Refusal.NODE_FULL);
      req.pause();
      services.placement().choose(null, config.nodeId()).onComplete(ar -> {
        JsonObject body = draining
            ? HttpJson.body("draining", "this node is draining; connect to the node named here, or retry")
            : HttpJson.body("full", "this node is at capacity; connect to the node named here, or retry");
        if (ar.succeeded()) {
          ar.result().ifPresent(c -> body.put("node", c.node()).put("url", c.url()));
        }
        req.response().putHeader("Retry-After", Integer.toString(RETRY_AFTER_SECONDS));
        HttpJson.send(req.response(), 503, body);
      });
      return;
    }
    String address = ClientAddress.of(req, config.access().trustedProxies());
    IpLimits ipLimits = services.ipLimits();
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
    services.refusals().count(why);
    // Debug, not info: a flood of refusals must not become a flood of log lines; /metrics counts them.
    log.atDebug().addKeyValue("reason", why.label()).addKeyValue("status", status)
        .addKeyValue("remote", String.valueOf(req.remoteAddress()))
        .addKeyValue("subject", subject).log("socket refused");
    HttpJson.send(req.response(), status, HttpJson.body(code, message));
  }
}
