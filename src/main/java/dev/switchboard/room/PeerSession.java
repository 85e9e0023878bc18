package dev.switchboard.room;

import dev.switchboard.cluster.Envelope;
import dev.switchboard.cluster.Envelope.PeerJoined;
import dev.switchboard.cluster.Envelope.PeerLeft;
import dev.switchboard.cluster.Envelope.PeerStateChanged;
import dev.switchboard.cluster.Envelope.Relay;
import dev.switchboard.cluster.Envelope.RoomMessage;
import dev.switchboard.protocol.ClientMessage;
import dev.switchboard.protocol.CloseCode;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.LeaveReason;
import dev.switchboard.protocol.PeerInfo;
import dev.switchboard.protocol.ServerMessage;
import dev.switchboard.registry.RoomStore;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One peer in one room, on the node holding its socket: join, relays, room messages, state and
 * leave, and what the peer receives. Every method runs on the socket's event loop, except
 * {@link #deliver}, which any thread may call.
 */
public final class PeerSession {

  private static final Logger log = LoggerFactory.getLogger(PeerSession.class);
  /** Envelopes held while the join's store step is in flight; a room has at most maxPeers members. */
  private static final int MAX_BUFFERED = 1024;
  /** How long undoing a join whose answer did not come may take: it queues behind that slow join. */
  private static final long UNDO_TIMEOUT_MS = 30_000;

  private enum Phase { NEW, JOINING, JOINED, LEAVING, GONE }

  private final PeerSessions sessions;
  private final Router router;
  private final RoomStore store;
  private final PeerSocket link;
  private final Context context;
  private final long id;
  private final PendingAcks acks;
  private final Roster roster;
  private final ArrayDeque<Envelope> buffered = new ArrayDeque<>();
  private Phase phase = Phase.NEW;
  private LocalRoom room;
  private String peer;
  private ClientMessage.Role role;
  private JsonObject meta;
  private JsonObject state = new JsonObject();
  private long joinedAt;
  /** The room's sequence number of this peer's last change in the store. */
  private long lastSeq;
  private LeaveReason leaveAfterJoin;
  private final StateChanges stateChanges;

  PeerSession(PeerSessions sessions, PeerSocket link, Context context, long id) {
    this.sessions = sessions;
    this.router = sessions.router();
    this.store = sessions.store();
    this.link = link;
    this.context = context;
    this.id = id;
    this.acks = new PendingAcks(context.owner(), sessions.limits().ackTimeout().toMillis(), clientId ->
        link.send(ServerMessage.error(ErrorCode.UNAVAILABLE, "the target's node did not answer in time", clientId)));
    this.roster = new Roster(router, link, acks);
    this.stateChanges = new StateChanges(this, context.owner());
  }

  /** The room's id, once join was asked for. */
  public String room() {
    return room == null ? null : room.id();
  }

  public String peer() {
    return peer;
  }

  /** True once welcome was sent and until the peer asked to leave. */
  public boolean isJoined() {
    return phase == Phase.JOINED;
  }

  long id() {
    return id;
  }

  /**
   * Hands {@code e} to this session on its own event loop. Called by the router from any thread;
   * envelopes handed over from one thread are handled in the order they were handed over (the
   * event loop's task queue is FIFO). One that arrives after the session left is answered by
   * {@link #onEnvelope} (a relay gets peer-not-found), never dropped.
   */
  void deliver(Envelope e) {
    context.runOnContext(v -> onEnvelope(e));
  }

  /** Joins the room: answers with {@code welcome}, or with an error and a close. */
  public Future<Void> join(ClientMessage.Join j) {
    phase = Phase.JOINING;
    peer = j.peer() != null ? j.peer() : UUID.randomUUID().toString();
    role = j.role();
    meta = j.meta();
    joinedAt = System.currentTimeMillis();
    if (role != ClientMessage.Role.PEER) {
      return refuse(ErrorCode.BAD_REQUEST, "role " + role.wire() + " needs a broadcast room; this room is mesh",
          j.id(), CloseCode.BAD_JOIN);
    }
    room = sessions.enter(j.room(), peer, this);
    if (room == null) {
      return refuse(ErrorCode.PEER_ID_TAKEN, "peer id " + peer + " is already in room " + j.room(), j.id(),
          CloseCode.PEER_ID_TAKEN);
    }
    return onContext(store.join(room.id(), peer, router.self(), record(), sessions.limits().maxPeers()))
        .transform(ar -> {
          if (ar.failed()) {
            log.atWarn().addKeyValue("room", room()).addKeyValue("peer", peer)
                .addKeyValue("error", String.valueOf(ar.cause().getMessage())).log("join failed: store unavailable");
            undoJoin();
            return refuseJoined(ErrorCode.UNAVAILABLE, "rooms are unavailable right now; retry later", j.id(),
                CloseCode.UNAVAILABLE);
          }
          RoomStore.JoinResult r = ar.result();
          return switch (r.status()) {
            case TAKEN -> refuseJoined(ErrorCode.PEER_ID_TAKEN, "peer id " + peer + " is already in room " + room(),
                j.id(), CloseCode.PEER_ID_TAKEN);
            case FULL -> refuseJoined(ErrorCode.ROOM_FULL, "room " + room() + " is full", j.id(), CloseCode.UNAVAILABLE);
            case STALE_EPOCH -> {
              sessions.staleEpoch();
              yield refuseJoined(ErrorCode.UNAVAILABLE, "rooms are being restored after a store restart; retry",
                  j.id(), CloseCode.UNAVAILABLE);
            }
            case OK -> welcome(r);
          };
        });
  }

  /**
   * A join whose answer did not come may still have run in the store, and others may have seen
   * the peer in their welcome: remove it, and if it was there, say so to the room.
   */
  private void undoJoin() {
    String r = room();
    String p = peer;
    store.leave(r, p, router.self(), UNDO_TIMEOUT_MS).onSuccess(c -> {
      if (c.applied()) {
        router.announce(c.nodes(), new PeerLeft(r, p, c.seq(), ServerMessage.peerLeft(p, LeaveReason.DISCONNECTED)));
      }
    });
  }

  private Future<Void> welcome(RoomStore.JoinResult r) {
    lastSeq = r.seq();
    RoomListing listing = RoomListing.of(r.members(), peer);
    room.view().applySnapshot(r.seq(), listing.members());
    roster.welcomed(room(), peer, r.seq(), listing.others().keySet());
    // Every node of the room learns of the join before this peer can send anything.
    router.announce(listing.nodes(), joinedEvent(r.seq()));
    phase = Phase.JOINED;
    log.atDebug().addKeyValue("room", room()).addKeyValue("peer", peer).addKeyValue("seq", r.seq()).log("joined");
    if (leaveAfterJoin != null) {
      return leave(leaveAfterJoin);
    }
    link.send(ServerMessage.welcome(peer, room(), router.self(), listing.others().values(), sessions.iceServers(peer),
        sessions.limits().toClientJson()));
    while (!buffered.isEmpty()) {
      roster.deliver(buffered.poll());
    }
    return Future.succeededFuture();
  }

  /** Relays an offer, answer, candidate or targeted message to one peer of the room. */
  public void relay(ClientMessage.Relay r) {
    String node = room.view().nodeOf(r.to());
    if (node == null) {
      link.send(ServerMessage.error(ErrorCode.PEER_NOT_FOUND, "peer " + r.to() + " is not in room " + room(), r.id()));
      return;
    }
    long ref = 0;
    if (r.id() != null) {
      if (acks.isFull()) {
        link.send(ServerMessage.error(ErrorCode.RATE_LIMITED, "too many messages awaiting their ack", r.id()));
        return;
      }
      ref = acks.add(r.id());
    }
    router.send(node, new Relay(room(), r.to(), peer, id, router.self(), ref, ServerMessage.relayed(r, peer)));
  }

  /** Sends an application message to every other peer of the room. */
  public void broadcast(ClientMessage.Broadcast b) {
    router.announce(room.view().nodes(), new RoomMessage(room(), peer, ServerMessage.broadcast(b.data(), peer)));
    if (b.id() != null) {
      link.send(ServerMessage.ack(b.id()));
    }
  }

  /** Updates this peer's published state; changes are written to the store one at a time, in order. */
  public void state(ClientMessage.State s) {
    if (!stateChanges.offer(s)) {
      link.send(ServerMessage.error(ErrorCode.RATE_LIMITED, "too many state changes in flight", s.id()));
    }
  }

  // --- for StateChanges ---

  JsonObject publishedState() {
    return state;
  }

  /** Writes this member's record with {@code next} as its state; completes on this session's event loop. */
  Future<RoomStore.Change> writeState(JsonObject next) {
    return onContext(store.updateMember(room(), peer, router.self(), record().put("state", next)));
  }

  /** The store holds {@code next}: the room is told, and the client if it gave an id. */
  void stateSaved(RoomStore.Change change, JsonObject next, Object clientId) {
    state = next;
    lastSeq = Math.max(lastSeq, change.seq());
    router.announce(change.nodes(), new PeerStateChanged(room(), peer, change.seq(), ServerMessage.peerState(peer, next)));
    if (clientId != null && phase == Phase.JOINED) {
      link.send(ServerMessage.ack(clientId));
    }
  }

  void stateNotSaved(Object clientId) {
    link.send(ServerMessage.error(ErrorCode.UNAVAILABLE, "state could not be saved; retry later", clientId));
  }

  /**
   * Leaves the room for good: the others get {@code peer-left} with {@code reason}. A peer that
   * asked to leave first gets the answers to the relays it is still waiting for. Safe to call
   * in any phase and more than once.
   */
  public Future<Void> leave(LeaveReason reason) {
    switch (phase) {
      case JOINING -> {
        leaveAfterJoin = reason;
        return Future.succeededFuture();
      }
      case JOINED -> {
        if (reason == LeaveReason.LEFT) {
          phase = Phase.LEAVING;
          return acks.drained().compose(v -> depart(reason));
        }
        return depart(reason);
      }
      case LEAVING -> {
        acks.clear();
        return Future.succeededFuture();
      }
      default -> {
        return Future.succeededFuture();
      }
    }
  }

  private Future<Void> depart(LeaveReason reason) {
    if (phase == Phase.GONE) {
      return Future.succeededFuture();
    }
    phase = Phase.GONE;
    room.unclaim(peer, this);
    acks.clear();
    String left = ServerMessage.peerLeft(peer, reason);
    return onContext(store.leave(room(), peer, router.self())).transform(ar -> {
      if (ar.succeeded() && ar.result().applied()) {
        router.announce(ar.result().nodes(), new PeerLeft(room(), peer, ar.result().seq(), left));
      } else {
        // The store is unreachable, or no longer lists the peer (it lost its data, or the peer
        // was reaped): tell the nodes this one knows of, so no one waits on a ghost. Sequenced
        // just after the peer's last change; a view that already knows better ignores it, and a
        // client that never saw the peer is not told.
        if (ar.failed()) {
          log.atWarn().addKeyValue("room", room()).addKeyValue("peer", peer)
              .addKeyValue("error", String.valueOf(ar.cause().getMessage())).log("leave not written to the store");
        }
        router.announce(room.view().nodes(), new PeerLeft(room(), peer, lastSeq + 1, left));
      }
      exit();
      log.atDebug().addKeyValue("room", room()).addKeyValue("peer", peer).addKeyValue("reason", reason.wire())
          .log("left");
      return Future.succeededFuture();
    });
  }

  /**
   * Writes this member back after the store lost its data, on this session's event loop; then
   * the room's nodes learn of it again, at its new sequence number, and this peer's client of
   * every member it had not heard of. Completes when done, whatever the outcome.
   */
  Future<Void> restore() {
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> {
      if (phase != Phase.JOINED && phase != Phase.LEAVING) {
        done.complete();
        return;
      }
      onContext(store.restore(room(), peer, router.self(), record(), room.view().maxSeq())).onSuccess(s -> {
        if (s.applied()) {
          lastSeq = Math.max(lastSeq, s.seq());
          // Joins that happened while this member was missing from the store did not reach
          // this node, nor did they list this peer: both sides learn of each other now.
          RoomListing listing = RoomListing.of(s.members(), peer);
          room.view().merge(listing.members());
          router.announce(listing.nodes(), joinedEvent(s.seq()));
        }
      }).onFailure(err -> log.atWarn().addKeyValue("room", room()).addKeyValue("peer", peer)
          .addKeyValue("error", String.valueOf(err.getMessage())).log("could not write member back"))
          .onComplete(ar -> done.complete());
    });
    return done.future();
  }

  /**
   * After the store lost its data: this node's view learns the members of {@code snapshot}, and
   * this peer's client those it has not heard of, on this session's event loop.
   */
  void resync(RoomStore.Snapshot snapshot) {
    context.runOnContext(v -> {
      if (phase != Phase.JOINED) {
        return;
      }
      RoomListing listing = RoomListing.of(snapshot.members(), peer);
      room.view().merge(listing.members());
      listing.others().forEach((other, info) -> roster.met(other, ServerMessage.peerJoined(info)));
    });
  }

  /** Closes the socket (this node's room state is stale): the client reconnects and joins afresh. */
  void drop(short code, String reason) {
    context.runOnContext(v -> link.close(code, reason));
  }

  /** An envelope for this session or for its room, on this session's event loop. */
  private void onEnvelope(Envelope e) {
    switch (phase) {
      case JOINING -> {
        if (buffered.size() >= MAX_BUFFERED) {
          log.atWarn().addKeyValue("room", room()).addKeyValue("peer", peer).log("join backlog overflow; closing");
          roster.refuse(e);
          link.close(CloseCode.INTERNAL, "join backlog overflow");
          return;
        }
        buffered.add(e);
      }
      case JOINED, LEAVING -> roster.deliver(e);
      default -> roster.refuse(e);
    }
  }

  private PeerJoined joinedEvent(long seq) {
    return new PeerJoined(room(), peer, router.self(), seq,
        ServerMessage.peerJoined(new PeerInfo(peer, meta, state, role)));
  }

  private Future<Void> refuse(ErrorCode code, String message, Object clientId, short closeCode) {
    phase = Phase.GONE;
    link.send(ServerMessage.error(code, message, clientId));
    link.close(closeCode, code.wire());
    return Future.succeededFuture();
  }

  /** Refuses a join that entered its local room: leaves it, then refuses. */
  private Future<Void> refuseJoined(ErrorCode code, String message, Object clientId, short closeCode) {
    exit();
    return refuse(code, message, clientId, closeCode);
  }

  /** Undoes what join set up on this node: from now on the router no longer finds this session. */
  private void exit() {
    phase = Phase.GONE;
    sessions.exit(room, peer, this);
    while (!buffered.isEmpty()) {
      roster.refuse(buffered.poll());
    }
  }

  private JsonObject record() {
    return new JsonObject()
        .put("node", router.self())
        .put("meta", meta)
        .put("state", state)
        .put("role", role.wire())
        .put("joinedAt", joinedAt);
  }

  /** Completes on this session's event loop, whatever thread completed {@code f}. */
  private <T> Future<T> onContext(Future<T> f) {
    Promise<T> p = Promise.promise();
    f.onComplete(ar -> context.runOnContext(v -> p.handle(ar)));
    return p.future();
  }
}
