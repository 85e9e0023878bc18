package dev.switchboard.room;

import dev.switchboard.cluster.Envelope;
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
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One peer in one room, on the node holding its socket: join, relays, room messages, state and
 * leave, and what the peer receives. Every method runs on the socket's event loop.
 */
public final class PeerSession {

  private static final Logger log = LoggerFactory.getLogger(PeerSession.class);
  /** Envelopes held while the join's Redis step is in flight; a room has at most maxPeers members. */
  private static final int MAX_BUFFERED = 1024;
  /** State changes queued behind the one in flight. */
  private static final int MAX_QUEUED_STATES = 8;
  /** A state change whose outcome is unknown (Redis timed out) is written again this often. */
  private static final int STATE_ATTEMPTS = 3;
  private static final long STATE_RETRY_MS = 500;
  /**
   * How long the undo of a join whose answer did not come may take: it queues behind that
   * join in a Redis that is slow, so it gets more time than an ordinary command.
   */
  private static final long UNDO_TIMEOUT_MS = 30_000;

  private enum Phase { NEW, JOINING, JOINED, LEAVING, GONE }

  private final Rooms rooms;
  private final PeerLink link;
  private final Context context;
  private final long id;
  private final PendingAcks acks;
  private Phase phase = Phase.NEW;
  private String room;
  private String peer;
  private ClientMessage.Role role;
  private JsonObject meta;
  private JsonObject state = new JsonObject();
  private long joinedAt;
  /** The room's sequence number of this peer's last change in Redis. */
  private long lastSeq;
  private LeaveReason leaveAfterJoin;
  private final ArrayDeque<Envelope> buffered = new ArrayDeque<>();
  private final PeerInbox inbox;
  private Future<Void> stateTail = Future.succeededFuture();
  private int queuedStates;

  PeerSession(Rooms rooms, PeerLink link, Context context, long id) {
    this.rooms = rooms;
    this.link = link;
    this.context = context;
    this.id = id;
    this.acks = new PendingAcks(rooms.vertx(), rooms.limits().ackTimeout().toMillis(), clientId ->
        link.send(ServerMessage.error(ErrorCode.UNAVAILABLE, "the target's node did not answer in time", clientId)));
    this.inbox = new PeerInbox(rooms, link, acks);
  }

  public String room() {
    return room;
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
   * event loop's task queue is FIFO). One reached after the session left is answered by
   * {@link #onEnvelope} (a relay gets peer-not-found), never dropped.
   */
  void deliver(Envelope e) {
    context.runOnContext(v -> onEnvelope(e));
  }

  /** Joins the room: answers with {@code welcome}, or with an error and a close. */
  public Future<Void> join(ClientMessage.Join j) {
    phase = Phase.JOINING;
    room = j.room();
    peer = j.peer() != null ? j.peer() : UUID.randomUUID().toString();
    role = j.role();
    meta = j.meta();
    joinedAt = System.currentTimeMillis();
    if (role != ClientMessage.Role.PEER) {
      return refuse(ErrorCode.BAD_REQUEST, "role " + role.wire() + " needs a broadcast room; this room is mesh",
          j.id(), CloseCode.BAD_JOIN);
    }
    if (!rooms.claim(room, peer, this)) {
      return refuse(ErrorCode.PEER_ID_TAKEN, "peer id " + peer + " is already in room " + room, j.id(),
          CloseCode.PEER_ID_TAKEN);
    }
    rooms.directory().hold(room);
    return onContext(rooms.store().join(room, peer, rooms.nodeId(), record(), rooms.limits().maxPeers()))
        .transform(ar -> {
          if (ar.failed()) {
            log.atWarn().addKeyValue("room", room).addKeyValue("peer", peer)
                .addKeyValue("error", String.valueOf(ar.cause().getMessage())).log("join failed: Redis unavailable");
            undoJoin();
            release();
            return refuse(ErrorCode.UNAVAILABLE, "rooms are unavailable right now; retry later", j.id(),
                CloseCode.UNAVAILABLE);
          }
          RoomStore.JoinResult r = ar.result();
          return switch (r.status()) {
            case TAKEN -> {
              release();
              yield refuse(ErrorCode.PEER_ID_TAKEN, "peer id " + peer + " is already in room " + room, j.id(),
                  CloseCode.PEER_ID_TAKEN);
            }
            case FULL -> {
              release();
              yield refuse(ErrorCode.ROOM_FULL, "room " + room + " is full", j.id(), CloseCode.UNAVAILABLE);
            }
            case STALE_EPOCH -> {
              release();
              rooms.staleEpoch().run();
              yield refuse(ErrorCode.UNAVAILABLE, "rooms are being restored after a Redis restart; retry", j.id(),
                  CloseCode.UNAVAILABLE);
            }
            case OK -> welcome(r);
          };
        });
  }

  /**
   * A join whose answer did not come may still have run in Redis, and others may have seen the
   * peer in their welcome: remove it, and if it was there, say so to the room.
   */
  private void undoJoin() {
    String left = ServerMessage.peerLeft(peer, LeaveReason.DISCONNECTED);
    String r = room;
    String p = peer;
    rooms.store().leave(r, p, rooms.nodeId(), UNDO_TIMEOUT_MS).onSuccess(c -> {
      if (c.applied()) {
        Envelope event = Envelope.membership(Envelope.Kind.LEFT, r, p, rooms.nodeId(), c.seq(), rooms.nodeId(), left);
        c.nodes().forEach(node -> rooms.channel().send(node, event));
      }
    });
  }

  private Future<Void> welcome(RoomStore.JoinResult r) {
    lastSeq = r.seq();
    Set<String> othersIds = new HashSet<>();
    List<RoomView.Member> members = new ArrayList<>();
    List<PeerInfo> others = new ArrayList<>();
    Set<String> nodes = new LinkedHashSet<>();
    for (RoomStore.StoredMember m : r.members()) {
      JsonObject rec = m.record();
      String node = rec.getString("node");
      members.add(new RoomView.Member(m.peer(), node, rec.getLong("seq", 0L)));
      nodes.add(node);
      if (!m.peer().equals(peer)) {
        othersIds.add(m.peer());
        others.add(new PeerInfo(m.peer(), rec.getJsonObject("meta", new JsonObject()),
            rec.getJsonObject("state", new JsonObject()),
            ClientMessage.Role.fromWire(rec.getString("role", "peer"))));
      }
    }
    rooms.directory().get(room).applySnapshot(r.seq(), members);
    inbox.welcomed(room, peer, r.seq(), othersIds);
    // Every node of the room learns of the join before this peer can send anything.
    String joined = ServerMessage.peerJoined(new PeerInfo(peer, meta, state, role));
    Envelope event = Envelope.membership(Envelope.Kind.JOINED, room, peer, rooms.nodeId(), r.seq(),
        rooms.nodeId(), joined);
    nodes.forEach(node -> rooms.channel().send(node, event));
    phase = Phase.JOINED;
    log.atDebug().addKeyValue("room", room).addKeyValue("peer", peer).addKeyValue("seq", r.seq()).log("joined");
    if (leaveAfterJoin != null) {
      return leave(leaveAfterJoin);
    }
    link.send(ServerMessage.welcome(peer, room, rooms.nodeId(), others, rooms.iceServers(peer),
        rooms.limits().toClientJson()));
    while (!buffered.isEmpty()) {
      inbox.deliver(buffered.poll());
    }
    return Future.succeededFuture();
  }

  /** Relays an offer, answer, candidate or targeted message to one peer of the room. */
  public void relay(ClientMessage.Relay r) {
    String node = rooms.directory().get(room).nodeOf(r.to());
    if (node == null) {
      link.send(ServerMessage.error(ErrorCode.PEER_NOT_FOUND, "peer " + r.to() + " is not in room " + room, r.id()));
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
    rooms.channel().send(node, Envelope.relay(room, r.to(), peer, id, rooms.nodeId(), ref,
        ServerMessage.relayed(r, peer)));
  }

  /** Sends an application message to every other peer of the room. */
  public void broadcast(ClientMessage.Broadcast b) {
    Envelope e = Envelope.room(room, peer, rooms.nodeId(), ServerMessage.broadcast(b.data(), peer));
    for (String node : rooms.directory().get(room).nodes()) {
      rooms.channel().send(node, e);
    }
    if (b.id() != null) {
      link.send(ServerMessage.ack(b.id()));
    }
  }

  /** Updates this peer's published state; changes are written to Redis one at a time, in order. */
  public void state(ClientMessage.State s) {
    if (queuedStates >= MAX_QUEUED_STATES) {
      link.send(ServerMessage.error(ErrorCode.RATE_LIMITED, "too many state changes in flight", s.id()));
      return;
    }
    queuedStates++;
    stateTail = stateTail.transform(ignored -> applyState(s, 1)).onComplete(ar -> queuedStates--);
  }

  private Future<Void> applyState(ClientMessage.State s, int attempt) {
    if (phase != Phase.JOINED) {
      return Future.succeededFuture();
    }
    JsonObject next = state.copy();
    if (s.audio() != null) {
      next.put("audio", s.audio());
    }
    if (s.video() != null) {
      next.put("video", s.video());
    }
    if (s.data() != null) {
      next.put("data", s.data());
    }
    JsonObject record = record().put("state", next);
    return onContext(rooms.store().updateMember(room, peer, rooms.nodeId(), record)).transform(ar -> {
      if (ar.failed() && attempt < STATE_ATTEMPTS) {
        // The write may or may not have happened; writing the same record again is safe, and
        // announcing what Redis holds keeps the room and later welcomes in agreement.
        Promise<Void> retried = Promise.promise();
        rooms.vertx().setTimer(STATE_RETRY_MS, t -> applyState(s, attempt + 1).onComplete(retried));
        return retried.future();
      }
      if (ar.failed() || !ar.result().applied()) {
        link.send(ServerMessage.error(ErrorCode.UNAVAILABLE, "state could not be saved; retry later", s.id()));
        return Future.succeededFuture();
      }
      state = next;
      lastSeq = Math.max(lastSeq, ar.result().seq());
      Envelope event = Envelope.membership(Envelope.Kind.STATE, room, peer, rooms.nodeId(), ar.result().seq(),
          rooms.nodeId(), ServerMessage.peerState(peer, next));
      ar.result().nodes().forEach(node -> rooms.channel().send(node, event));
      if (s.id() != null && phase == Phase.JOINED) {
        link.send(ServerMessage.ack(s.id()));
      }
      return Future.succeededFuture();
    });
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
    rooms.leaving().incrementAndGet();
    rooms.unclaim(room, peer, this);
    acks.clear();
    RoomView view = rooms.directory().get(room);
    String left = ServerMessage.peerLeft(peer, reason);
    return onContext(rooms.store().leave(room, peer, rooms.nodeId())).transform(ar -> {
      if (ar.succeeded() && ar.result().applied()) {
        Envelope event = Envelope.membership(Envelope.Kind.LEFT, room, peer, rooms.nodeId(), ar.result().seq(),
            rooms.nodeId(), left);
        ar.result().nodes().forEach(node -> rooms.channel().send(node, event));
      } else {
        // Redis is unreachable, or no longer lists the peer (it lost its data, or the peer was
        // reaped): tell the nodes this one knows of, so no one waits on a ghost. Sequenced just
        // after the peer's last change; a view that already knows better ignores it, and a
        // client that never saw the peer is not told.
        if (ar.failed()) {
          log.atWarn().addKeyValue("room", room).addKeyValue("peer", peer)
              .addKeyValue("error", String.valueOf(ar.cause().getMessage())).log("leave not written to Redis");
        }
        Envelope event = Envelope.membership(Envelope.Kind.LEFT, room, peer, rooms.nodeId(), lastSeq + 1,
            rooms.nodeId(), left);
        for (String node : view.nodes()) {
          rooms.channel().send(node, event);
        }
      }
      release();
      rooms.leaving().decrementAndGet();
      log.atDebug().addKeyValue("room", room).addKeyValue("peer", peer).addKeyValue("reason", reason.wire()).log("left");
      return Future.succeededFuture();
    });
  }

  /** Writes this member back to Redis (it lost its data), on this session's event loop. */
  Future<Void> restore() {
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> {
      if (phase != Phase.JOINED && phase != Phase.LEAVING) {
        done.complete();
        return;
      }
      long minSeq = rooms.directory().get(room).maxSeq();
      rooms.store().restore(room, peer, rooms.nodeId(), record(), minSeq).onComplete(ar -> context.runOnContext(x -> {
        if (ar.succeeded() && ar.result() >= 0) {
          lastSeq = Math.max(lastSeq, ar.result());
        } else if (ar.failed()) {
          log.atWarn().addKeyValue("room", room).addKeyValue("peer", peer)
              .addKeyValue("error", String.valueOf(ar.cause().getMessage())).log("could not write member back");
        }
        done.complete();
      }));
    });
    return done.future();
  }

  /** An envelope for this session or for its room, on this session's event loop. */
  private void onEnvelope(Envelope e) {
    switch (phase) {
      case JOINING -> {
        if (buffered.size() >= MAX_BUFFERED) {
          log.atWarn().addKeyValue("room", room).addKeyValue("peer", peer).log("join backlog overflow; closing");
          inbox.nack(e);
          link.close(CloseCode.INTERNAL, "join backlog overflow");
          return;
        }
        buffered.add(e);
      }
      case JOINED, LEAVING -> inbox.deliver(e);
      default -> inbox.nack(e);
    }
  }

  private Future<Void> refuse(ErrorCode code, String message, Object clientId, short closeCode) {
    phase = Phase.GONE;
    link.send(ServerMessage.error(code, message, clientId));
    link.close(closeCode, code.wire());
    return Future.succeededFuture();
  }

  /** Undoes what join set up on this node: from now on the router no longer finds this session. */
  private void release() {
    phase = Phase.GONE;
    rooms.unclaim(room, peer, this);
    rooms.directory().release(room);
    while (!buffered.isEmpty()) {
      inbox.nack(buffered.poll());
    }
  }

  private JsonObject record() {
    return new JsonObject()
        .put("node", rooms.nodeId())
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
