package dev.switchboard.ops;

import dev.switchboard.cluster.NodeChannel;
import dev.switchboard.config.Config;
import dev.switchboard.media.MediaServer;
import dev.switchboard.metrics.NodeMetrics;
import dev.switchboard.protocol.Ids;
import dev.switchboard.registry.NodeRecord;
import dev.switchboard.registry.Placement;
import dev.switchboard.room.LocalRooms;
import dev.switchboard.room.PeerSessions;
import dev.switchboard.transport.HttpJson;
import dev.switchboard.transport.OutboundBudget;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.FileSystemAccess;
import io.vertx.ext.web.handler.StaticHandler;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's HTTP routes besides the WebSocket: liveness and readiness, metrics, placement, the
 * operator's API and the browser client. Every answer is JSON, errors included; a failure never
 * shows a stack trace to the client.
 */
public final class HttpRoutes {

  private static final Logger log = LoggerFactory.getLogger(HttpRoutes.class);
  /** Where the build puts client/demo and client/src on the class path (see pom.xml). */
  static final String BUILT_IN_CLIENT = "switchboard-client";

  private final Config config;
  private final NodeRecord record;
  private final PeerSessions sessions;
  private final LocalRooms rooms;
  private final Placement placement;
  private final AdminApi admin;
  private final NodeMetrics metrics;
  private final MediaServer media;

  /**
   * The gauges of {@code /metrics} read the node's parts at each scrape: open sockets, peers,
   * rooms, bytes waiting for sockets, the node channel's counters, the process's resident memory.
   */
  public HttpRoutes(Config config, NodeRecord record, PeerSessions sessions, LocalRooms rooms, Placement placement,
                    AdminApi admin, NodeMetrics metrics, OutboundBudget outbound, NodeChannel channel,
                    MediaServer media) {
    this.media = media;
    this.metrics = metrics;
    MeterRegistry r = metrics.registry();
    Gauge.builder("switchboard.connections", record::connections).description("Open WebSockets on this node")
        .register(r);
    Gauge.builder("switchboard.peers", sessions::active).description("Peers joined through this node").register(r);
    Gauge.builder("switchboard.rooms", rooms::size).description("Rooms with a peer on this node").register(r);
    Gauge.builder("switchboard.outbound", outbound::bytes).baseUnit("bytes")
        .description("Bytes waiting to be written to this node's sockets").register(r);
    FunctionCounter.builder("switchboard.cluster.batch.gaps", channel, NodeChannel::gaps)
        .description("Node-to-node batches that arrived out of their sender's order or after a missing one")
        .register(r);
    FunctionCounter.builder("switchboard.cluster.skipped.entries", channel, NodeChannel::skippedEntries)
        .description("Node-to-node entries of kinds this node does not know (sent by a newer node), skipped")
        .register(r);
    FunctionCounter.builder("switchboard.cluster.legacy.batches", channel, NodeChannel::legacyBatches)
        .description("Node-to-node batches received in the first release's format: a node still writes it")
        .register(r);
    Gauge.builder("process.resident.memory", ProcessMemory::residentBytes).baseUnit("bytes")
        .description("Resident set size of the node's process (-1 where /proc is not there)").register(r);
    this.config = config;
    this.record = record;
    this.sessions = sessions;
    this.rooms = rooms;
    this.placement = placement;
    this.admin = admin;
  }

  /** A router with every route, for one event loop's HTTP server. */
  public Router router(Vertx vertx) {
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

  private void health(RoutingContext ctx) {
    HttpJson.send(ctx, 200, new JsonObject()
        .put("status", "up")
        .put("redis", record.redisUp() ? "up" : "down")
        .put("state", record.state())
        .put("node", config.nodeId())
        .put("connections", record.connections())
        .put("peers", sessions.active())
        .put("rooms", rooms.size()));
  }

  /**
   * Readiness: 200 when the node can take new peers (Redis answers, it is not draining, and its
   * media server, if it has one, is up), else 503. Peers already in rooms keep signaling either
   * way: liveness is {@code /health}.
   */
  private void ready(RoutingContext ctx) {
    boolean redis = record.redisUp();
    boolean active = "active".equals(record.state());
    MediaServer.State mediaState = media.state();
    boolean ready = redis && active && mediaState != MediaServer.State.DOWN;
    HttpJson.send(ctx, ready ? 200 : 503, new JsonObject()
        .put("ready", ready)
        .put("redis", redis ? "up" : "down")
        .put("media", mediaState.name().toLowerCase(Locale.ROOT))
        .put("state", record.state()));
  }

  /**
   * {@code GET /metrics}: Vert.x's, the JVM's and the node's metrics in the Prometheus text format
   * (docs/operations.md, "Metrics"). Rendered on a worker: a scrape of a few hundred series must not
   * hold up the event loop's sockets.
   */
  private void metrics(RoutingContext ctx) {
    if (!metrics.enabled()) {
      HttpJson.error(ctx, 404, "metrics-off", "metrics are off on this node (metrics.enabled=false)");
      return;
    }
    ctx.vertx().executeBlocking(metrics::scrape, false).onComplete(ar -> {
      if (ar.succeeded()) {
        ctx.response().putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8").end(ar.result());
      } else {
        HttpJson.error(ctx, 500, "internal", "the metrics could not be rendered");
      }
    });
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
        HttpJson.send(ctx, 200, new JsonObject().put("node", c.node()).put("url", c.url())
            .put("connections", c.connections()));
      }
    });
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
}
