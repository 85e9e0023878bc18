package dev.switchboard.media;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What one member receives of a media room: one subscriber handle (one receiving connection in
 * the browser: Janus's multistream) subscribed to every feed the member may see. Each offer Janus
 * makes for it (the first, and one per change as publishers come and go) goes to the client as
 * {@code subscribe-offer}, with the peer each {@code mid} shows; the client's answer is handed to
 * Janus with {@code start}. Janus renegotiates one change at a time: a change while an offer is
 * unanswered is merged into a later offer, which comes as an event. Used on the link's event
 * loop only.
 */
final class MediaSubscription {

  private static final Logger log = LoggerFactory.getLogger(MediaSubscription.class);

  /** Feeds subscribed to at most: a meeting's other publishers. */
  static final int MAX_FEEDS = 256;

  private final JanusLink link;
  private final String room;
  private final String peer;
  private final String opaqueId;
  private final long privateId;
  private final Consumer<String> toClient;
  private final Set<String> feeds = new LinkedHashSet<>();
  private JanusHandle handle;
  private boolean attaching;
  private boolean closed;

  MediaSubscription(JanusLink link, String room, String peer, String opaqueId, long privateId,
                    Consumer<String> toClient) {
    this.link = link;
    this.room = room;
    this.peer = peer;
    this.opaqueId = opaqueId;
    this.privateId = privateId;
    this.toClient = toClient;
  }

  /** {@code feed} publishes now: the member subscribes to it. */
  void add(String feed) {
    if (closed || feed.equals(peer) || feeds.contains(feed) || feeds.size() >= MAX_FEEDS) {
      return;
    }
    feeds.add(feed);
    if (handle == null) {
      if (!attaching) {
        attach();
      }
      return; // the join, when its handle is there, subscribes to every feed by then
    }
    handle.message(new JsonObject().put("request", "subscribe").put("streams", streams(Set.of(feed))), null)
        .onSuccess(this::offered)
        .onFailure(err -> log.atDebug().addKeyValue("room", room).addKeyValue("peer", peer).addKeyValue("feed", feed)
            .addKeyValue("error", String.valueOf(err.getMessage())).log("subscription not extended"));
  }

  /** {@code feed} stopped publishing: Janus drops its streams itself (and offers again). */
  void remove(String feed) {
    feeds.remove(feed);
  }

  /** The feeds subscribed to now: who publishes, of what the member may see. */
  List<String> feeds() {
    return List.copyOf(feeds);
  }

  /** The client's answer to the last offer. */
  Future<Void> answer(String sdp) {
    if (handle == null) {
      return Future.failedFuture(new JanusError(424, "nothing is subscribed yet", true));
    }
    return handle.message(new JsonObject().put("request", "start"), new JsonObject().put("type", "answer")
        .put("sdp", sdp)).mapEmpty();
  }

  /** A candidate of the client's receiving connection. */
  Future<Void> trickle(JsonObject candidate) {
    if (handle == null) {
      return Future.failedFuture(new JanusError(424, "nothing is subscribed yet", true));
    }
    return handle.trickle(candidate == null ? new JsonObject().put("completed", true) : candidate);
  }

  void close() {
    closed = true;
    if (handle != null) {
      handle.detach();
    }
  }

  private void attach() {
    attaching = true;
    link.attach(VideoRooms.PLUGIN, opaqueId, new JanusHandle.Listener() {
      @Override
      public void event(JsonObject message) {
        JsonObject jsep = message.getJsonObject("jsep");
        JsonObject data = message.getJsonObject("plugindata", new JsonObject()).getJsonObject("data", new JsonObject());
        if (jsep != null && "offer".equals(jsep.getString("type"))) {
          offered(new JanusHandle.Reply(data, jsep)); // a renegotiation Janus made by itself
        }
      }

      @Override
      public void lost() {
      }
    }).compose(h -> {
      if (closed) {
        return h.detach().mapEmpty();
      }
      handle = h;
      return h.message(new JsonObject().put("request", "join").put("ptype", "subscriber").put("room", room)
          .put("use_msid", true).put("private_id", privateId).put("streams", streams(feeds)), null)
          .onSuccess(this::offered).<Void>mapEmpty()
          .onFailure(err -> {
            // A handle joins once: this one goes, and the next publisher to come starts over.
            handle = null;
            h.detach();
          });
    }).onComplete(ar -> attaching = false).onFailure(err -> log.atWarn().addKeyValue("room", room)
        .addKeyValue("peer", peer).addKeyValue("error", String.valueOf(err.getMessage()))
        .log("could not subscribe to the media room; the next publisher to come tries again"));
  }

  /** An offer for the receiving connection: to the client, with who each {@code mid} shows. */
  private void offered(JanusHandle.Reply reply) {
    if (reply.jsep() == null || closed) {
      return; // nothing changed, or the change waits for the offer outstanding (it comes as an event)
    }
    JsonArray shown = new JsonArray();
    JsonArray streams = reply.data().getJsonArray("streams", new JsonArray());
    for (int i = 0; i < streams.size(); i++) {
      JsonObject s = streams.getJsonObject(i);
      if (s.getBoolean("active", true) && s.getString("feed_id") != null) {
        shown.add(new JsonObject().put("mid", s.getString("mid")).put("peer", s.getString("feed_id"))
            .put("kind", s.getString("type")));
      }
    }
    toClient.accept(new JsonObject().put("type", "subscribe-offer").put("sdp", reply.jsep().getString("sdp"))
        .put("streams", shown).encode());
  }

  private static JsonArray streams(Set<String> feeds) {
    JsonArray out = new JsonArray();
    feeds.forEach(f -> out.add(new JsonObject().put("feed", f)));
    return out;
  }
}
