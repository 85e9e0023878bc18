package dev.switchboard.ops;

import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.Ids;
import dev.switchboard.registry.Placement;
import dev.switchboard.cluster.Envelope;
import dev.switchboard.media.MediaServer;
import dev.switchboard.protocol.ServerMessage;
import dev.switchboard.registry.RedisRoomStore;
import dev.switchboard.registry.RoomStore;
import dev.switchboard.room.Router;
import dev.switchboard.transport.HttpJson;
import io.vertx.core.Future;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;

/**
 * The operator's HTTP API, behind {@code Authorization: Bearer <admin.key>}. Without a key
 * configured it is off, and says so with 403. Every answer is JSON; errors are
 * {@code {"error": code, "message": text}} with a matching status.
 */
public final class AdminApi {

  /** Rooms listed at most by {@code GET /v1/rooms}. */
  static final int MAX_ROOMS_LISTED = 1000;
  /** The largest request body accepted. */
  static final long MAX_BODY_BYTES = 4096;
  /** How long a kick waits for the peer's node to remove it, and how often it looks. */
  static final long KICK_WAIT_MS = 5_000;
  static final long KICK_POLL_MS = 100;

  private final String key;
  private final RedisRoomStore store;
  private final Placement nodes;
  private final Router router;
  private final MediaServer media;
  private final int defaultMaxPeers;

  public AdminApi(String key, RedisRoomStore store, Placement nodes, Router router, MediaServer media,
                  int defaultMaxPeers) {
    this.media = media;
    this.key = key;
    this.store = store;
    this.nodes = nodes;
    this.router = router;
    this.defaultMaxPeers = defaultMaxPeers;
  }

  /** Adds the admin routes to {@code router}. */
  public void mount(io.vertx.ext.web.Router router) {
    router.route("/v1/nodes*").handler(this::authorize);
    router.route("/v1/rooms*").handler(this::authorize);
    router.get("/v1/nodes").handler(this::listNodes);
    router.post("/v1/nodes/:node/drain").handler(ctx -> control(ctx, new Envelope.Drain(), "draining"));
    router.post("/v1/nodes/:node/undrain").handler(ctx -> control(ctx, new Envelope.Undrain(), "active"));
    router.get("/v1/rooms").handler(this::listRooms);
    router.post("/v1/rooms").handler(BodyHandler.create().setBodyLimit(MAX_BODY_BYTES)).handler(this::createRoom);
    router.get("/v1/rooms/:room").handler(this::getRoom);
    router.delete("/v1/rooms/:room").handler(this::deleteRoom);
    router.delete("/v1/rooms/:room/peers/:peer").handler(this::kick);
  }

  private void authorize(RoutingContext ctx) {
    if (key.isEmpty()) {
      HttpJson.error(ctx, 403, "admin-off", "the admin API is off: set admin.key (SWITCHBOARD_ADMIN_KEY) to turn it on");
      return;
    }
    String header = ctx.request().getHeader("Authorization");
    String given = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7).trim() : "";
    if (!MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), key.getBytes(StandardCharsets.UTF_8))) {
      ctx.response().putHeader("WWW-Authenticate", "Bearer");
      HttpJson.error(ctx, 401, "unauthorized", "a valid admin key is required: Authorization: Bearer <admin.key>");
      return;
    }
    ctx.next();
  }

  private void listNodes(RoutingContext ctx) {
    reply(ctx, nodes.liveNodes().map(list -> {
      JsonArray out = new JsonArray();
      list.forEach(n -> out.add(new JsonObject().put("node", n.node()).put("url", n.url())
          .put("connections", n.connections()).put("rooms", n.rooms()).put("state", n.state())
          .put("heartbeatAt", n.heartbeatAt())));
      return new JsonObject().put("nodes", out);
    }));
  }

  /** Drains a live node, or takes it back: {@code order} goes to it, which then writes {@code state}. */
  private void control(RoutingContext ctx, Envelope order, String state) {
    String node = ctx.pathParam("node");
    reply(ctx, nodes.liveNodes().map(list -> {
      if (list.stream().noneMatch(n -> n.node().equals(node))) {
        throw new Refusal(404, "not-found", "no live node " + node);
      }
      router.send(node, order);
      return new JsonObject().put("node", node).put("state", state);
    }));
  }

  private void listRooms(RoutingContext ctx) {
    int limit;
    try {
      limit = Integer.parseInt(ctx.request().params().get("limit") == null ? "100" : ctx.request().getParam("limit"));
    } catch (NumberFormatException e) {
      limit = -1;
    }
    if (limit < 1 || limit > MAX_ROOMS_LISTED) {
      HttpJson.error(ctx, 400, "bad-request", "limit must be between 1 and " + MAX_ROOMS_LISTED);
      return;
    }
    reply(ctx, store.rooms(limit).map(map -> {
      JsonArray out = new JsonArray();
      map.forEach((room, peers) -> out.add(new JsonObject().put("room", room).put("peers", peers)));
      return new JsonObject().put("rooms", out);
    }));
  }

  private void getRoom(RoutingContext ctx) {
    String room = ctx.pathParam("room");
    if (!Ids.isValid(room)) {
      HttpJson.error(ctx, 400, "bad-request", "room must match [A-Za-z0-9._-]{1,64}");
      return;
    }
    reply(ctx, store.room(room).map(found -> {
      RedisRoomStore.RoomInfo info = found.orElseThrow(() -> new Refusal(404, "not-found", "no room " + room));
      JsonArray peers = new JsonArray();
      for (RoomStore.StoredMember m : info.members()) {
        JsonObject r = m.record();
        peers.add(new JsonObject().put("peer", m.peer()).put("node", r.getString("node"))
            .put("role", r.getString("role")).put("meta", r.getJsonObject("meta"))
            .put("state", r.getJsonObject("state")).put("joinedAt", r.getLong("joinedAt")));
      }
      return new JsonObject().put("room", room).put("config", configJson(info.config())).put("peers", peers);
    }));
  }

  /**
   * {@code POST /v1/rooms} {@code {"room", "mode", "media", "maxPeers"}}: configures a room ahead
   * of its first peer. {@code mode} is {@code mesh} (default) or {@code broadcast} (one
   * presenter, viewers); {@code media} is {@code p2p} (default) or {@code sfu} (through the media
   * server: refused on a node without one).
   */
  private void createRoom(RoutingContext ctx) {
    JsonObject body;
    try {
      body = ctx.body().asJsonObject();
    } catch (DecodeException | ClassCastException e) {
      body = null;
    }
    if (body == null) {
      HttpJson.error(ctx, 400, "bad-request", "the body must be a JSON object: {\"room\": ..., \"mode\": \"mesh\","
          + " \"media\": \"p2p\", \"maxPeers\": n}");
      return;
    }
    Object room = body.getValue("room");
    Object mode = body.getValue("mode", "mesh");
    Object media = body.getValue("media", "p2p");
    Object maxPeers = body.getValue("maxPeers", defaultMaxPeers);
    if (!(room instanceof String r) || !Ids.isValid(r)) {
      HttpJson.error(ctx, 400, "bad-request", "room must match [A-Za-z0-9._-]{1,64}");
    } else if (!"mesh".equals(mode) && !"broadcast".equals(mode)) {
      HttpJson.error(ctx, 400, "bad-request", "mode must be mesh or broadcast");
    } else if ("sfu".equals(media) && this.media.state() == MediaServer.State.OFF) {
      HttpJson.error(ctx, 400, "no-media-server", "media sfu needs a media server: set media.janus-url"
          + " (docs/media.md)");
    } else if (!"p2p".equals(media) && !"sfu".equals(media)) {
      HttpJson.error(ctx, 400, "bad-request", "media must be p2p or sfu");
    } else if (!(maxPeers instanceof Integer n) || n < 1 || n > 10_000) {
      HttpJson.error(ctx, 400, "bad-request", "maxPeers must be a whole number from 1 to 10000");
    } else {
      String m = (String) mode;
      String md = (String) media;
      reply(ctx, 201, store.createRoom(r, m, md, n).map(created -> {
        if (!created) {
          throw new Refusal(409, "exists", "room " + r + " is already configured");
        }
        return new JsonObject().put("room", r).put("config", new JsonObject().put("mode", m).put("media", md)
            .put("maxPeers", n));
      }));
    }
  }

  private void deleteRoom(RoutingContext ctx) {
    String room = ctx.pathParam("room");
    if (!Ids.isValid(room)) {
      HttpJson.error(ctx, 400, "bad-request", "room must match [A-Za-z0-9._-]{1,64}");
      return;
    }
    reply(ctx, store.room(room).compose(found -> {
      RedisRoomStore.RoomInfo info = found.orElseThrow(() -> new Refusal(404, "not-found", "no room " + room));
      return store.roomNodes(room).compose(holding -> {
        // Each member gets room-closed, then close 1000; their leaves empty the room.
        router.announce(holding, new Envelope.CloseRoom(room, ServerMessage.roomClosed("closed by an operator")));
        // Its media room goes at once, not when the last member's leave is written.
        media.destroyRoom(room);
        return store.deleteRoomConfig(room);
      }).map(v -> new JsonObject().put("room", room).put("closed", info.members().size()));
    }));
  }

  /**
   * {@code DELETE /v1/rooms/R/peers/P}: the node holding the peer removes it ({@code Eviction}):
   * its client gets {@code error} {@code kicked} and close 4406, the others {@code peer-left}
   * {@code kicked}. Answers once the store no longer lists the peer; 404 for a peer not in the
   * room; 503 if it is still listed after {@link #KICK_WAIT_MS} (its node died and is not
   * cleaned up yet, or it was moving between nodes: ask again).
   */
  private void kick(RoutingContext ctx) {
    String room = ctx.pathParam("room");
    String peer = ctx.pathParam("peer");
    if (!Ids.isValid(room) || !Ids.isValid(peer)) {
      HttpJson.error(ctx, 400, "bad-request", "room and peer must match [A-Za-z0-9._-]{1,64}");
      return;
    }
    reply(ctx, store.room(room).compose(found -> {
      RoomStore.StoredMember member = found.flatMap(info -> info.members().stream()
          .filter(m -> m.peer().equals(peer)).findFirst())
          .orElseThrow(() -> new Refusal(404, "not-found", "no peer " + peer + " in room " + room));
      router.send(member.node(), new Envelope.Kick(room, peer,
          ServerMessage.error(ErrorCode.KICKED, "an operator removed you from room " + room, null)));
      return gone(ctx.vertx(), room, peer, System.currentTimeMillis() + KICK_WAIT_MS)
          .map(v -> new JsonObject().put("room", room).put("peer", peer).put("node", member.node())
              .put("kicked", true));
    }));
  }

  /** Completes once the store no longer lists {@code peer} in {@code room}, or fails at {@code deadline}. */
  private Future<Void> gone(io.vertx.core.Vertx vertx, String room, String peer, long deadline) {
    return store.room(room).compose(found -> {
      boolean listed = found.map(info -> info.members().stream().anyMatch(m -> m.peer().equals(peer))).orElse(false);
      if (!listed) {
        return Future.succeededFuture();
      }
      if (System.currentTimeMillis() >= deadline) {
        return Future.failedFuture(new Refusal(503, "unavailable", "peer " + peer + " is still in room " + room
            + ": its node did not remove it in time (it may be down, or the peer moving between nodes); retry"));
      }
      io.vertx.core.Promise<Void> later = io.vertx.core.Promise.promise();
      vertx.setTimer(KICK_POLL_MS, t -> gone(vertx, room, peer, deadline).onComplete(later));
      return later.future();
    });
  }

  private static JsonObject configJson(Map<String, String> config) {
    JsonObject out = new JsonObject().put("mode", config.getOrDefault("mode", "mesh"))
        .put("media", config.getOrDefault("media", "p2p"));
    if (config.containsKey("maxPeers")) {
      out.put("maxPeers", Integer.parseInt(config.get("maxPeers")));
    }
    return out;
  }

  private static void reply(RoutingContext ctx, Future<JsonObject> result) {
    reply(ctx, 200, result);
  }

  private static void reply(RoutingContext ctx, int status, Future<JsonObject> result) {
    result.onComplete(ar -> {
      if (ar.succeeded()) {
        HttpJson.send(ctx, status, ar.result());
      } else if (ar.cause() instanceof Refusal r) {
        HttpJson.error(ctx, r.status, r.code, r.getMessage());
      } else {
        HttpJson.error(ctx, 503, "unavailable", "Redis did not answer; retry");
      }
    });
  }

  /** A request refused for a reason the client can act on. */
  private static final class Refusal extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final int status;
    final String code;

    Refusal(int status, String code, String message) {
      super(message, null, false, false);
      this.status = status;
      this.code = code;
    }
  }
}
