package dev.switchboard.media;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A peer's place in its room's media room: the VideoRoom participant whose id is the peer's, on
 * a handle of this node's link whose {@code opaque_id} is {@code <node>/<room>/<peer>}. Joined
 * when the peer joins an {@code sfu} room; {@link #leave} detaches the handle, which takes the
 * participant (and whatever it publishes) out of the media room. Publishing goes through its
 * handle; what it receives, through its {@link MediaSubscription}.
 */
public final class MediaParticipant {

  private static final Logger log = LoggerFactory.getLogger(MediaParticipant.class);

  /**
   * How often a join whose id Janus still holds is tried again: the node the peer was on before
   * detaches its handle as the peer moves, and that can reach Janus after this join.
   */
  static final int JOIN_TRIES = 5;
  static final long JOIN_RETRY_MS = 200;
  /** VideoRoom: a participant with this id is in the room. */
  static final int ID_EXISTS = 436;
  /** VideoRoom: {@code publish} while the participant publishes already. */
  static final int ALREADY_PUBLISHED = 434;

  private final String room;
  private final String peer;
  private final JanusLink link;
  private final JanusHandle handle;
  private final MediaCounters counters;
  /** What the member receives; on the link's event loop only. */
  private final MediaSubscription subscription;
  /** Who publishes, of what the member may see: written on the link's loop, read from the member's. */
  private volatile List<String> publishers;
  private boolean left;

  private MediaParticipant(String room, String peer, JanusLink link, JanusHandle handle, MediaCounters counters,
                           MediaSubscription subscription) {
    this.room = room;
    this.peer = peer;
    this.link = link;
    this.handle = handle;
    this.counters = counters;
    this.subscription = subscription;
  }

  /**
   * Joins {@code peer} to media room {@code room} over a new handle of {@code link} named
   * {@code opaqueId}; its release is counted in {@code counters}, and the frames Janus's offers
   * for its receiving connection come to are handed to {@code toClient} (from the link's loop).
   * The member is subscribed to every publisher of the room, now and as they come. The handle is
   * detached again if the join fails.
   */
  static Future<MediaParticipant> join(Vertx vertx, JanusLink link, String room, String peer, String opaqueId,
                                       MediaCounters counters, Consumer<String> toClient) {
    Events events = new Events(room, peer);
    return link.attach(VideoRooms.PLUGIN, opaqueId, events).compose(handle ->
        joinAs(vertx, handle, room, peer, 1).map(joined -> {
          MediaParticipant p = new MediaParticipant(room, peer, link, handle, counters, new MediaSubscription(link,
              room, peer, opaqueId + "/in", joined.getLong("private_id", 0L), toClient));
          JsonArray listed = joined.getJsonArray("publishers", new JsonArray());
          p.publishers = publishing(listed, peer); // for the welcome, before the link's loop gets to it
          events.owner = p;
          link.run(() -> p.publishers(listed));
          return p;
        }).recover(err -> handle.detach().recover(e -> Future.succeededFuture())
            .compose(v -> Future.failedFuture(err))));
  }

  private static Future<JsonObject> joinAs(Vertx vertx, JanusHandle handle, String room, String peer, int attempt) {
    JsonObject join = new JsonObject().put("request", "join").put("ptype", "publisher").put("room", room)
        .put("id", peer).put("display", peer);
    return handle.message(join, null).map(JanusHandle.Reply::data).recover(err -> {
      if (err instanceof JanusError e && e.code() == ID_EXISTS && attempt < JOIN_TRIES) {
        Promise<JsonObject> again = Promise.promise();
        vertx.setTimer(JOIN_RETRY_MS, t -> joinAs(vertx, handle, room, peer, attempt + 1).onComplete(again));
        return again.future();
      }
      return Future.failedFuture(err);
    });
  }

  /**
   * Publishes (or renegotiates what is published): {@code offer} is the SDP offer of the peer's
   * publishing connection; the result is Janus's answer. VideoRoom refuses a second
   * {@code publish} while a first stands ({@link #ALREADY_PUBLISHED}): a renegotiation is a
   * {@code configure} with the new offer.
   */
  public Future<String> publish(String offer) {
    return offer("publish", offer).recover(err -> err instanceof JanusError e && e.code() == ALREADY_PUBLISHED
        ? offer("configure", offer) : Future.failedFuture(err));
  }

  private Future<String> offer(String request, String sdp) {
    return handle.message(new JsonObject().put("request", request),
        new JsonObject().put("type", "offer").put("sdp", sdp)).compose(reply -> reply.jsep() == null
            ? Future.failedFuture(new JanusError(499, "the media server sent no answer to the offer", true))
            : Future.succeededFuture(reply.jsep().getString("sdp")));
  }

  /** Stops publishing: the participant stays in the media room. */
  public Future<Void> unpublish() {
    return handle.message(new JsonObject().put("request", "unpublish"), null).mapEmpty();
  }

  /** Hands Janus a candidate of the publishing connection; null at the end of gathering. */
  public Future<Void> trickle(JsonObject candidate) {
    return handle.trickle(candidate == null ? new JsonObject().put("completed", true) : candidate);
  }

  /** The client's answer to the last {@code subscribe-offer}. */
  public Future<Void> answerSubscription(String sdp) {
    Promise<Void> done = Promise.promise();
    link.run(() -> subscription.answer(sdp).onComplete(done));
    return done.future();
  }

  /** Hands Janus a candidate of the receiving connection; null at the end of gathering. */
  public Future<Void> trickleSubscription(JsonObject candidate) {
    Promise<Void> done = Promise.promise();
    link.run(() -> subscription.trickle(candidate).onComplete(done));
    return done.future();
  }

  /** The peers publishing in the media room, the member aside, as it knows them now. */
  public List<String> publishers() {
    return publishers;
  }

  /** Publishers Janus lists (at the join, or as they start or change): the member subscribes to each. */
  private void publishers(JsonArray list) {
    publishing(list, peer).forEach(subscription::add);
    publishers = subscription.feeds();
  }

  /** The ids in a Janus {@code publishers} list that publish streams, {@code self} aside. */
  private static List<String> publishing(JsonArray list, String self) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      JsonObject p = list.getJsonObject(i);
      String id = p.getString("id");
      if (id != null && !id.equals(self) && !p.getJsonArray("streams", new JsonArray()).isEmpty()) {
        ids.add(id);
      }
    }
    return ids;
  }

  /** An event of the media room, on the link's loop: publishers that came, or went. */
  private void roomEvent(JsonObject data) {
    if (data.getValue("publishers") instanceof JsonArray list) {
      publishers(list);
    }
    for (String gone : new String[] {"unpublished", "leaving", "kicked"}) {
      if (data.getValue(gone) instanceof String id && !"ok".equals(id)) {
        subscription.remove(id);
      }
    }
    publishers = subscription.feeds();
  }

  /** Leaves the media room: the handle is detached (once; later calls do nothing). */
  public Future<Void> leave() {
    if (left) {
      return Future.succeededFuture();
    }
    left = true;
    counters.participantsReleased.increment();
    link.run(subscription::close);
    return handle.detach().onFailure(err -> log.atDebug().addKeyValue("room", room).addKeyValue("peer", peer)
        .addKeyValue("error", String.valueOf(err.getMessage()))
        .log("media handle not detached (Janus or the link is gone: it went with them)"));
  }

  /** What Janus says of the participant: the room's publishers coming and going. */
  private static final class Events implements JanusHandle.Listener {
    private final String room;
    private final String peer;
    /** Set once the join succeeded; events before it are covered by the join's own list. */
    volatile MediaParticipant owner;

    Events(String room, String peer) {
      this.room = room;
      this.peer = peer;
    }

    @Override
    public void event(JsonObject message) {
      MediaParticipant p = owner;
      JsonObject plugindata = message.getJsonObject("plugindata");
      if (p != null && plugindata != null) {
        p.roomEvent(plugindata.getJsonObject("data", new JsonObject()));
      }
    }

    @Override
    public void lost() {
      log.atInfo().addKeyValue("room", room).addKeyValue("peer", peer)
          .log("the link to the media server went down: the peer's media participant is gone");
    }
  }
}
