package dev.switchboard.media;

import dev.switchboard.config.Config;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's media server: its link to the Janus of {@code media.janus-url}, and the handle it
 * asks for rooms over ({@link VideoRooms}). Opened at start; a Janus that cannot be reached or
 * refuses the secret is a clear log line, {@code /ready} answers 503, and the node tries again
 * (1 s, doubling up to {@link #MAX_RETRY_MS}) instead of exiting. A link that goes down is opened
 * again the same way. Without {@code media.janus-url} there is no media server: {@link #state}
 * says {@code off}.
 */
public final class MediaServer {

  private static final Logger log = LoggerFactory.getLogger(MediaServer.class);

  /** The longest wait between two attempts to open the link. */
  static final long MAX_RETRY_MS = 30_000;
  /** Publishers a meeting's media room takes: as many as a room may have members (its own limit is Switchboard's). */
  static final int MEETING_PUBLISHERS = 10_000;

  /** Whether the node has a media server, and whether it can use it now. */
  public enum State { OFF, UP, DOWN }

  private final Vertx vertx;
  private final Config.Media settings;
  private final String node;
  private final MediaCounters counters = new MediaCounters();
  private JanusLink link;
  private volatile VideoRooms rooms;
  private long retryMs = 1000;
  private long retryTimer = -1;
  private volatile boolean stopped;

  public MediaServer(Vertx vertx, Config.Media settings, String node) {
    this.vertx = vertx;
    this.settings = settings;
    this.node = node;
  }

  public State state() {
    return !settings.enabled() ? State.OFF : rooms != null ? State.UP : State.DOWN;
  }

  /** What the node did with its media server, for {@code /metrics}. */
  public MediaCounters counters() {
    return counters;
  }

  /**
   * Joins {@code peer} to the media room of {@code room}, creating it with its first participant
   * ({@code broadcast}: one publisher). Janus keeps one room per id, so two nodes creating it at
   * once make one room; a room destroyed between the create and the join (its last member left on
   * another node) is created again. Fails with {@link JanusError#LINK_DOWN} while the media server
   * is down. What Janus offers for the member's receiving connection goes to {@code toClient}.
   */
  public Future<MediaParticipant> join(String room, String peer, boolean broadcast, Consumer<String> toClient) {
    VideoRooms r = rooms;
    JanusLink l = link;
    if (r == null) {
      return Future.failedFuture(new JanusError(JanusError.LINK_DOWN, "the media server is down", false));
    }
    int publishers = broadcast ? 1 : MEETING_PUBLISHERS;
    String opaqueId = node + "/" + room + "/" + peer;
    return create(r, room, publishers)
        .compose(v -> MediaParticipant.join(vertx, l, room, peer, opaqueId, counters, toClient))
        .recover(err -> err instanceof JanusError e && e.code() == JanusError.NO_SUCH_ROOM
            ? create(r, room, publishers).compose(v -> MediaParticipant.join(vertx, l, room, peer, opaqueId, counters, toClient))
            : Future.failedFuture(err))
        .onSuccess(p -> counters.participantsJoined.increment());
  }

  private Future<Void> create(VideoRooms r, String room, int publishers) {
    return r.create(room, publishers).map(created -> {
      if (created) {
        counters.roomsCreated.increment();
      }
      return null;
    });
  }

  /** Destroys the media room of {@code room} (its last member left, or it was ended): true if it was there. */
  public Future<Boolean> destroyRoom(String room) {
    VideoRooms r = rooms;
    if (r == null) {
      return Future.succeededFuture(false); // a Janus that restarted has forgotten it; one that is down, too
    }
    return r.destroy(room).onSuccess(destroyed -> {
      if (destroyed) {
        counters.roomsDestroyed.increment();
        log.atInfo().addKeyValue("node", node).addKeyValue("room", room).log("media room destroyed");
      }
    });
  }

  /**
   * Opens the link, if a media server is configured. Completes once the first attempt is over,
   * whatever its outcome: a node whose Janus is down still starts (and says so).
   */
  public Future<Void> start() {
    return settings.enabled() ? open() : Future.succeededFuture();
  }

  public Future<Void> stop() {
    stopped = true;
    if (retryTimer >= 0) {
      vertx.cancelTimer(retryTimer);
    }
    rooms = null;
    return link == null ? Future.succeededFuture() : link.close();
  }

  private Future<Void> open() {
    JanusLink next = new JanusLink(vertx, settings, this::down);
    link = next;
    return next.open()
        .compose(v -> next.attach(VideoRooms.PLUGIN, node + "/rooms", JanusHandle.Listener.ignoring()))
        .onSuccess(handle -> {
          rooms = new VideoRooms(handle, settings.adminKey());
          retryMs = 1000;
          log.atInfo().addKeyValue("node", node).addKeyValue("janus", settings.janusUrl()).log("media server up");
        })
        .onFailure(err -> {
          log.atError().addKeyValue("node", node).addKeyValue("janus", settings.janusUrl())
              .addKeyValue("error", String.valueOf(err.getMessage())).addKeyValue("retryMs", retryMs)
              .log(hint(err));
          next.close();
          retryLater();
        })
        .<Void>mapEmpty()
        .recover(err -> Future.succeededFuture());
  }

  /** What an operator should look at, for the error an attempt failed with. */
  private static String hint(Throwable err) {
    if (err instanceof JanusError e && e.code() == JanusError.UNAUTHORIZED) {
      return "Janus refused the API secret: check media.janus-api-secret against api_secret in janus.jcfg;"
          + " sfu rooms are refused until it is fixed";
    }
    if (err instanceof JanusError e && e.code() == JanusError.LINK_DOWN) {
      return "cannot reach Janus: check media.janus-url and that Janus runs with its WebSocket transport;"
          + " sfu rooms are refused until it answers";
    }
    return "could not open a session on Janus; sfu rooms are refused until it works";
  }

  private void down(String why) {
    rooms = null;
    log.atError().addKeyValue("node", node).addKeyValue("janus", settings.janusUrl()).addKeyValue("why", why)
        .log("media server down: sfu rooms are refused until the link is back");
    retryLater();
  }

  private void retryLater() {
    if (stopped) {
      return;
    }
    long wait = retryMs;
    retryMs = Math.min(MAX_RETRY_MS, retryMs * 2);
    retryTimer = vertx.setTimer(wait, t -> {
      retryTimer = -1;
      if (!stopped) {
        open();
      }
    });
  }
}
