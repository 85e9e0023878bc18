package dev.switchboard.media;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * The VideoRoom rooms of one Janus, as the node asks for them over its own handle: create,
 * destroy, whether one exists, and who is in it. A Switchboard room's media room has the same
 * id (Janus runs with {@code string_ids}); it is private (never listed to other Janus users) and
 * not permanent (it is gone if Janus restarts), and it is created with the VideoRoom's
 * {@code admin_key} when one is set. Which node creates and destroys it is decided elsewhere (in
 * Redis); a create that finds the room there already says so rather than failing.
 */
public final class VideoRooms {

  /** The VideoRoom plugin's package name, to attach handles to. */
  public static final String PLUGIN = "janus.plugin.videoroom";

  /** One participant of a media room: its id (the peer's) and whether its PeerConnection is up. */
  public record Participant(String id, boolean publishing) {
  }

  private final JanusHandle handle;
  private final String adminKey;

  public VideoRooms(JanusHandle handle, String adminKey) {
    this.handle = handle;
    this.adminKey = adminKey;
  }

  /**
   * Creates media room {@code room} for at most {@code publishers} publishers: true if created,
   * false if it existed already.
   */
  public Future<Boolean> create(String room, int publishers) {
    JsonObject body = new JsonObject().put("request", "create").put("room", room).put("permanent", false)
        .put("is_private", true).put("publishers", publishers).put("audiocodec", "opus").put("videocodec", "vp8")
        .put("notify_joining", false);
    if (!adminKey.isEmpty()) {
      body.put("admin_key", adminKey);
    }
    return handle.request(body).map(created -> true).recover(err ->
        err instanceof JanusError e && e.code() == JanusError.ROOM_EXISTS ? Future.succeededFuture(false)
            : Future.failedFuture(err));
  }

  /** Destroys media room {@code room} (its participants' PeerConnections close): true if it was there. */
  public Future<Boolean> destroy(String room) {
    return handle.request(new JsonObject().put("request", "destroy").put("room", room).put("permanent", false))
        .map(destroyed -> true)
        .recover(err -> err instanceof JanusError e && e.code() == JanusError.NO_SUCH_ROOM
            ? Future.succeededFuture(false) : Future.failedFuture(err));
  }

  /** Whether media room {@code room} exists. */
  public Future<Boolean> exists(String room) {
    return handle.request(new JsonObject().put("request", "exists").put("room", room))
        .map(answer -> answer.getBoolean("exists", false));
  }

  /** The participants of media room {@code room}; fails with {@link JanusError#NO_SUCH_ROOM} if there is none. */
  public Future<List<Participant>> participants(String room) {
    return handle.request(new JsonObject().put("request", "listparticipants").put("room", room)).map(answer -> {
      List<Participant> out = new ArrayList<>();
      JsonArray list = answer.getJsonArray("participants", new JsonArray());
      for (int i = 0; i < list.size(); i++) {
        JsonObject p = list.getJsonObject(i);
        out.add(new Participant(p.getString("id"), p.getBoolean("publisher", false)));
      }
      return out;
    });
  }
}
