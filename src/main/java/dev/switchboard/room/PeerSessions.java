package dev.switchboard.room;

import dev.switchboard.auth.TurnCredentials;
import dev.switchboard.config.Config;
import dev.switchboard.registry.RoomStore;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonArray;
import java.util.ArrayList;
import java.util.List;
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
  private final Runnable staleEpoch;
  /** Session ids, unique on this node: a peer that joins again is a new session. */
  private final AtomicLong ids = new AtomicLong();
  /** Sessions that entered a room and have not finished leaving it. */
  private final AtomicInteger active = new AtomicInteger();
  private final List<Promise<Void>> idleWaiters = new ArrayList<>();

  /**
   * {@code staleEpoch} runs when a join finds that the store has a data epoch this node has not
   * seen yet: the node should look at the store now rather than at its next heartbeat.
   */
  public PeerSessions(Router router, RoomStore store, LocalRooms rooms, Config.Limits limits, TurnCredentials ice,
                      Runnable staleEpoch) {
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
    room.unclaim(peer, session);
    rooms.release(room);
    if (active.decrementAndGet() == 0) {
      List<Promise<Void>> waiters;
      synchronized (idleWaiters) {
        waiters = List.copyOf(idleWaiters);
        idleWaiters.clear();
      }
      waiters.forEach(Promise::tryComplete);
    }
  }

  Router router() {
    return router;
  }

  RoomStore store() {
    return store;
  }

  Config.Limits limits() {
    return limits;
  }

  void staleEpoch() {
    staleEpoch.run();
  }

  /** The ICE servers for {@code peer}'s welcome, TURN credentials included. */
  JsonArray iceServers(String peer) {
    return ice.iceServers(peer, System.currentTimeMillis());
  }
}
