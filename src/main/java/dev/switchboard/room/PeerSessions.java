package dev.switchboard.room;

import dev.switchboard.auth.TurnCredentials;
import dev.switchboard.config.Config;
import dev.switchboard.media.MediaServer;
import dev.switchboard.protocol.ClientMessage;
import dev.switchboard.protocol.CloseCode;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.LeaveReason;
import dev.switchboard.protocol.ServerMessage;
import dev.switchboard.registry.RoomStore;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonArray;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The peer sessions of this node: creates one per socket, admits it into its local room, and
 * knows when none is left holding room state (a stopping node waits for that). What every
 * session shares is here, given once at construction. Thread-safe.
 */
public final class PeerSessions {

  private final Router router;
  private final RoomStore store;
  private final LocalRooms rooms;
  private final Config.Limits limits;
  private final TurnCredentials ice;
  private final MediaServer media;
  private final Runnable staleEpoch;
  /** Session ids, unique on this node: a peer that joins again is a new session. */
  private final AtomicLong ids = new AtomicLong();
  /** Sessions that entered a room and have not finished leaving it. */
  private final AtomicInteger active = new AtomicInteger();
  private final List<Promise<Void>> idleWaiters = new ArrayList<>();
  /** Set when the node stops: a socket that closes then ends its peer, with nothing to resume. */
  private volatile boolean stopping;

  /**
   * {@code staleEpoch} runs when a join finds that the store has a data epoch this node has not
   * seen yet: the node should look at the store now rather than at its next heartbeat.
   */
  public PeerSessions(Router router, RoomStore store, LocalRooms rooms, Config.Limits limits, TurnCredentials ice,
                      MediaServer media, Runnable staleEpoch) {
    this.media = media;
    this.router = router;
    this.store = store;
    this.rooms = rooms;
    this.limits = limits;
    this.ice = ice;
    this.staleEpoch = staleEpoch;
  }

  /** A new, not yet joined session for a socket whose handlers run on {@code context}. */
  public PeerSession open(PeerSocket link, Context context) {
    return new PeerSession(this, link, context, ids.incrementAndGet());
  }

  /** How a join with a resume token ended. */
  public enum Resumed {
    /** Nothing to resume (no token, or no such peer here): a fresh join. */
    FRESH,
    /** The client has its session back, on the new socket. */
    RESUMED,
    /** The token is not the session's (wrong, used, another peer's), or another resume is under way. */
    REFUSED,
    /** The store did not answer; the peer stays away and the client may try again. */
    UNAVAILABLE,
    /**
     * The session ended before the resume could take it (it left, its window ran out, or the
     * client missed more than was kept): a fresh join.
     */
    GONE
  }

  /** What a join on a socket came to: the session now serving the socket (null if refused), and how. */
  public record Admitted(PeerSession session, Resumed outcome) {
  }

  /**
   * Joins {@code join} on {@code socket}, whose handlers run on {@code loop}. With a
   * {@code resume} token for a peer held on this node, that session is taken back
   * ({@link Resumption#resume}); for a peer another node holds, it is claimed from there
   * ({@link Claimant}); a token that is not its session's never takes over the
   * identity: the socket gets {@code peer-id-taken} and a close (4409), and the held peer's
   * window runs on. Otherwise (no token, or nobody to resume here) {@code fresh} joins. Completes
   * on {@code loop}. A resumed session is handed to {@code adopt} before its welcome is written,
   * so that what the client sends after the welcome finds it.
   */
  public Future<Admitted> join(ClientMessage.Join join, PeerSession fresh, PeerSocket socket, Context loop,
                               Consumer<PeerSession> adopt) {
    if (join.resume() == null || join.peer() == null || limits.resumeWindow().isZero()) {
      fresh.join(join);
      return Future.succeededFuture(new Admitted(fresh, Resumed.FRESH));
    }
    LocalRoom room = rooms.get(join.room());
    PeerSession local = room == null ? null : room.session(join.peer());
    PeerSession held = local == null || local.isHanded() ? null : local;
    // Held here: resumed here. Otherwise another node may hold it: claimed from there.
    Future<Resumed> resumed = held != null ? held.parts().resumption().resume(held, join, socket, loop, adopt) : fresh.parts().handoff().claim(join);
    Promise<Admitted> admitted = Promise.promise();
    resumed.onComplete(ar -> loop.runOnContext(v -> {
      Resumed outcome = ar.succeeded() ? ar.result() : Resumed.UNAVAILABLE;
      switch (outcome) {
        case RESUMED -> admitted.complete(new Admitted(held != null ? held : fresh, outcome));
        case FRESH, GONE -> {
          fresh.join(join); // nobody to resume, or it left meanwhile: the id is free again, or taken by then
          admitted.complete(new Admitted(fresh, outcome));
        }
        case REFUSED -> {
          socket.send(ServerMessage.error(ErrorCode.PEER_ID_TAKEN, "peer id " + join.peer() + " is held in room "
              + join.room() + " and this resume token is not its session's", join.id()));
          socket.close(CloseCode.PEER_ID_TAKEN, ErrorCode.PEER_ID_TAKEN.wire());
          admitted.complete(new Admitted(null, outcome));
        }
        default -> {
          socket.send(ServerMessage.error(ErrorCode.UNAVAILABLE, "rooms are unavailable right now; retry later",
              join.id()));
          socket.close(CloseCode.UNAVAILABLE, ErrorCode.UNAVAILABLE.wire());
          admitted.complete(new Admitted(null, outcome));
        }
      }
    }));
    return admitted.future();
  }

  /**
   * The node is stopping: sockets closed from now on end their peers at once, and peers away
   * now leave. (A draining node hands its peers over instead: see docs/design.md.)
   */
  public void stopping() {
    stopping = true;
    for (PeerSession s : rooms.sessions()) {
      s.home().runOnContext(v -> {
        if (s.isAway()) {
          s.leave(LeaveReason.DISCONNECTED);
        }
      });
    }
  }

  /**
   * {@code node} left the cluster: each session answers at once the relays it sent there that
   * still await their answer ({@code unavailable}), rather than at their timeout.
   */
  public void nodeLost(String node) {
    for (PeerSession s : rooms.sessions()) {
      s.home().runOnContext(v -> s.nodeLost(node));
    }
  }

  /** Whether the store may still lack members after a loss of its data ({@link LocalRooms#restoring}). */
  boolean restoring() {
    return rooms.restoring();
  }

  boolean isStopping() {
    return stopping;
  }

  /** Peers with a socket on this node that are in (or entering, or leaving) a room. */
  public int active() {
    return active.get();
  }

  /**
   * Completes once no session holds room state (every leave written and announced), or after
   * {@code timeoutMs}: a stopping node waits for it before it leaves the cluster.
   */
  public Future<Void> whenIdle(long timeoutMs) {
    Promise<Void> idle = Promise.promise();
    synchronized (idleWaiters) {
      if (active.get() == 0) {
        return Future.succeededFuture();
      }
      idleWaiters.add(idle);
    }
    return idle.future().timeout(timeoutMs, java.util.concurrent.TimeUnit.MILLISECONDS)
        .recover(err -> Future.succeededFuture());
  }

  /**
   * Holds {@code room} for {@code session} and makes it the local holder of {@code peer}; null
   * (and nothing held) if the peer id is already held here.
   */
  LocalRoom enter(String room, String peer, PeerSession session) {
    LocalRoom held = rooms.hold(room);
    if (!held.claim(peer, session)) {
      rooms.release(held);
      return null;
    }
    active.incrementAndGet();
    return held;
  }

  /** Undoes {@link #enter}: the router no longer finds the session, and the room may go. */
  void exit(LocalRoom room, String peer, PeerSession session) {
    forget(room, peer, session);
    released();
  }

  /**
   * A session holds no room state here any more (it left, or was handed over to another node
   * and only forwards until {@link #forget}): a stopping node no longer waits for it.
   */
  void released() {
    if (active.decrementAndGet() == 0) {
      List<Promise<Void>> waiters;
      synchronized (idleWaiters) {
        waiters = List.copyOf(idleWaiters);
        idleWaiters.clear();
      }
      waiters.forEach(Promise::tryComplete);
    }
  }

  /** The router no longer finds {@code session} under {@code peer}, and the room may go. */
  void forget(LocalRoom room, String peer, PeerSession session) {
    room.unclaim(peer, session);
    rooms.release(room);
  }

  Router router() {
    return router;
  }

  RoomStore store() {
    return store;
  }

  /** How long the traces of a move last on this node. */
  MoveWindows moveWindows() {
    return rooms.windows();
  }

  Config.Limits limits() {
    return limits;
  }

  /** The node's media server, for the members of sfu rooms. */
  MediaServer media() {
    return media;
  }

  void staleEpoch() {
    staleEpoch.run();
  }

  /** The ICE servers for {@code peer}'s welcome, TURN credentials included. */
  JsonArray iceServers(String peer) {
    return ice.iceServers(peer, System.currentTimeMillis());
  }
}
