package dev.switchboard.room;

import dev.switchboard.async.OnLoop;
import dev.switchboard.cluster.Envelope;
import dev.switchboard.cluster.Envelope.CloseRoom;
import dev.switchboard.cluster.Envelope.Relay;
import dev.switchboard.cluster.Envelope.RoomMessage;
import dev.switchboard.config.Config;
import dev.switchboard.protocol.ClientMessage;
import dev.switchboard.protocol.CloseCode;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.LeaveReason;
import dev.switchboard.protocol.ServerMessage;
import dev.switchboard.registry.RoomStore;
import io.vertx.core.Context;
import io.vertx.core.Future;
import java.util.List;
import java.util.UUID;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One peer's session on the node holding its socket: join, relays, room messages, state, leave,
 * and what the peer receives; its membership of the room is its {@link RoomMember}'s. A session
 * outlives a socket that closes without {@code leave}: the peer is away, what reaches it is held,
 * and a client showing the session's token within the window takes it back ({@link #resume}).
 * Every method runs on the event loop of the socket the session began with ({@link #home}),
 * except {@link #deliver}, which any thread may call.
 */
public final class PeerSession {

  private static final Logger log = LoggerFactory.getLogger(PeerSession.class);

  /** AWAY: joined, with no socket, held for a resume until the window ends. */
  private enum Phase { NEW, JOINING, JOINED, AWAY, LEAVING, GONE }

  private final PeerSessions sessions;
  private final Router router;
  private final Context context;
  private final long id;
  private final SessionSocket link;
  private final PendingAcks acks;
  private final Roster roster;
  private final PeerInbox inbox;
  private final Resumption resumption;
  /** Read by a resumed socket's loop ({@link #isJoined}); written on the home loop only. */
  private volatile Phase phase = Phase.NEW;
  private RoomMember member;
  private StateChanges stateChanges;
  private LeaveReason leaveAfterJoin;

  PeerSession(PeerSessions sessions, PeerSocket socket, Context context, long id) {
    this.sessions = sessions;
    this.router = sessions.router();
    this.context = context;
    this.id = id;
    Config.Limits limits = sessions.limits();
    this.link = new SessionSocket(context, socket, context, this::holdWhileAway, limits.resumeBufferMessages(),
        limits.resumeBufferBytes());
    this.acks = new PendingAcks(context.owner(), limits.ackTimeout().toMillis(), (clientId, why) ->
        link.send(ServerMessage.error(ErrorCode.UNAVAILABLE, why + "; it may or may not have been delivered",
            clientId)));
    this.roster = new Roster(router, link, acks);
    this.inbox = new PeerInbox(router, roster, link, limits.resumeBufferMessages(), limits.resumeBufferBytes(),
        this::heldOverflow);
    this.resumption = new Resumption(context.owner(), limits.resumeWindow().toMillis(), link);
  }

  /** The room's id, once join was asked for. */
  public String room() {
    return member == null ? null : member.room().id();
  }

  public String peer() {
    return member == null ? null : member.peer();
  }

  /** True once welcome was sent and until the peer asked to leave or went away. */
  public boolean isJoined() {
    return phase == Phase.JOINED;
  }

  long id() {
    return id;
  }

  /** The event loop every method of this session runs on: a socket of another loop hops here. */
  public Context home() {
    return context;
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
    String peer = j.peer() != null ? j.peer() : UUID.randomUUID().toString();
    if (j.role() != ClientMessage.Role.PEER) {
      return refuse(ErrorCode.BAD_REQUEST, "role " + j.role().wire() + " needs a broadcast room; this room is mesh",
          j.id(), CloseCode.BAD_JOIN);
    }
    LocalRoom room = sessions.enter(j.room(), peer, this);
    if (room == null) {
      return refuse(ErrorCode.PEER_ID_TAKEN, "peer id " + peer + " is already in room " + j.room(), j.id(),
          CloseCode.PEER_ID_TAKEN);
    }
    member = new RoomMember(router, sessions.store(), sessions::restoring, room, peer, j.role(), j.meta());
    stateChanges = new StateChanges(member, link, context, this::holdsIdentity);
    return OnLoop.of(context, member.join(sessions.limits().maxPeers())).transform(ar -> {
      if (ar.failed()) {
        log.atWarn().addKeyValue("room", room()).addKeyValue("peer", peer)
            .addKeyValue("error", String.valueOf(ar.cause().getMessage())).log("join failed: store unavailable");
        member.undoJoin();
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

  private Future<Void> welcome(RoomStore.JoinResult r) {
    RoomListing listing = member.joined(r);
    roster.welcomed(room(), peer(), r.seq(), listing.others().keySet());
    phase = Phase.JOINED;
    log.atDebug().addKeyValue("room", room()).addKeyValue("peer", peer()).addKeyValue("seq", r.seq()).log("joined");
    if (leaveAfterJoin != null) {
      return leave(leaveAfterJoin);
    }
    link.welcome(ServerMessage.welcome(peer(), room(), router.self(), listing.others().values(),
        sessions.iceServers(peer()), sessions.limits().toClientJson(), resumption.issue(), null));
    if (inbox.open()) {
      return leave(LeaveReason.DISCONNECTED); // the room was closed while the join was in flight
    }
    return Future.succeededFuture();
  }

  /** Relays an offer, answer, candidate or targeted message to one peer of the room. */
  public void relay(ClientMessage.Relay r) {
    String node = member.room().view().nodeOf(r.to());
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
      ref = acks.add(r.id(), node);
    }
    router.send(node, new Relay(room(), r.to(), peer(), id, router.self(), ref, ServerMessage.relayed(r, peer())));
  }

  /** Sends an application message to every other peer of the room. */
  public void broadcast(ClientMessage.Broadcast b) {
    router.announce(member.room().view().nodes(),
        new RoomMessage(room(), peer(), ServerMessage.broadcast(b.data(), peer())));
    if (b.id() != null) {
      link.send(ServerMessage.ack(b.id()));
    }
  }

  /** Updates this peer's published state; changes are written to the store one at a time, in order. */
  public void state(ClientMessage.State s) {
    if (stateChanges == null || !stateChanges.offer(s)) {
      link.send(ServerMessage.error(ErrorCode.RATE_LIMITED, "too many state changes in flight", s.id()));
    }
  }

  /**
   * Leaves the room for good: the others get {@code peer-left} with {@code reason}. A peer that
   * asked to leave first gets the answers to the relays it is still waiting for. Safe to call
   * in any phase and more than once.
   */
  public Future<Void> leave(LeaveReason reason) {
    if (phase == Phase.JOINING) {
      leaveAfterJoin = reason;
    } else if (phase == Phase.JOINED && reason == LeaveReason.LEFT) {
      phase = Phase.LEAVING;
      return acks.drained().compose(v -> depart(reason));
    } else if (phase == Phase.JOINED || phase == Phase.AWAY) {
      return depart(reason);
    } else if (phase == Phase.LEAVING) {
      acks.clear(); // a second leave while the first waits for answers: no more waiting
    }
    return Future.succeededFuture();
  }

  /**
   * {@code socket} closed, or is being closed, for a reason other than {@code leave}. A joined
   * peer is then away for the resume window; one not yet welcomed, or of a node that is
   * stopping, leaves with {@code reason}. A socket this session no longer writes to (the client
   * resumed on another) changes nothing.
   */
  public void socketGone(PeerSocket socket, LeaveReason reason) {
    if (link.current() != socket) {
      return;
    }
    if (phase != Phase.JOINED || !resumption.enabled() || sessions.isStopping()) {
      leave(reason);
      return;
    }
    phase = Phase.AWAY;
    link.detach();
    inbox.startHolding();
    resumption.away(() -> {
      log.atInfo().addKeyValue("room", room()).addKeyValue("peer", peer()).log("peer did not resume in time");
      leave(LeaveReason.TIMEOUT);
    });
    log.atDebug().addKeyValue("room", room()).addKeyValue("peer", peer()).addKeyValue("reason", reason.wire())
        .log("peer away; held for resume");
  }

  private Future<Void> depart(LeaveReason reason) {
    if (phase == Phase.GONE) {
      return Future.succeededFuture();
    }
    phase = Phase.GONE;
    member.room().unclaim(member.peer(), this);
    acks.clear();
    resumption.end();
    return OnLoop.of(context, member.leave()).transform(ar -> {
      if (ar.failed()) {
        log.atWarn().addKeyValue("room", room()).addKeyValue("peer", peer())
            .addKeyValue("error", String.valueOf(ar.cause().getMessage())).log("leave not written to the store");
      }
      member.left(ar, reason);
      exit();
      log.atDebug().addKeyValue("room", room()).addKeyValue("peer", peer()).addKeyValue("reason", reason.wire())
          .log("left");
      return Future.succeededFuture();
    });
  }

  /** Takes this session onto {@code socket} for a client that showed its token ({@link Resumption#resume}). */
  public Future<PeerSessions.Resumed> resume(ClientMessage.Join j, PeerSocket socket, Context socketLoop,
                                             Consumer<PeerSession> adopt) {
    return resumption.resume(this, j, socket, socketLoop, adopt);
  }

  /** Counts a client message from {@code from}; false (not counted) if the session no longer serves that socket. */
  public boolean heard(PeerSocket from) {
    if (link.current() != from) {
      return false;
    }
    link.heard();
    return true;
  }

  /** Answers a client message that was refused before the session saw it: both are counted. */
  public void toClient(PeerSocket from, String frame) {
    if (heard(from)) {
      link.send(frame);
    }
  }


  /** Closes the client's socket, after what the session wrote to it before. */
  public void closeSocket(short code, String reason) {
    link.close(code, reason);
  }

  // --- for Resumption and Recovery, on this session's event loop ---

  /** Joined or away: the peer holds its identity in the room. */
  boolean holdsIdentity() {
    return phase == Phase.JOINED || phase == Phase.AWAY;
  }

  /** Joined, away or leaving: the member is in its room, in the store and on the other nodes. */
  boolean holdsRoomState() {
    return holdsIdentity() || phase == Phase.LEAVING;
  }

  boolean isAway() {
    return phase == Phase.AWAY;
  }

  RoomMember member() {
    return member;
  }

  /** A client resumes while its old socket is still open (it saw the drop first): the socket goes. */
  void takeFromSocket() {
    if (phase == Phase.JOINED) {
      PeerSocket old = link.current();
      link.close(CloseCode.PEER_ID_TAKEN, "resumed on another socket");
      socketGone(old, LeaveReason.DISCONNECTED);
    }
  }

  /**
   * The resume succeeded: the session writes to {@code socket} from now on. Its new welcome
   * lists the room as the store has it now ({@code room}); what was held follows, in order.
   */
  void welcomeBack(RoomStore.Snapshot room, List<String> missed, PeerSocket socket, Context socketLoop,
                   String token, long told) {
    link.attach(socket, socketLoop);
    phase = Phase.JOINED;
    RoomListing listing = member.seen(room.seq(), room.members());
    roster.rewelcomed(room.seq(), listing.others().keySet());
    link.welcome(ServerMessage.welcome(peer(), room(), router.self(), listing.others().values(),
        sessions.iceServers(peer()), sessions.limits().toClientJson(), token, told));
    missed.forEach(link::send);
    inbox.replay();
    log.atDebug().addKeyValue("room", room()).addKeyValue("peer", peer()).log("resumed");
  }

  /** {@code node} left the cluster: relays this peer still awaits its answer for are answered now. */
  void nodeLost(String node) {
    acks.nodeLost(node);
  }

  /** Tells the client of a member it has not heard of (see {@link Roster#met}). */
  void met(String other, String peerJoinedFrame) {
    roster.met(other, peerJoinedFrame);
  }

  /** An envelope for this session or for its room, on this session's event loop. */
  private void onEnvelope(Envelope e) {
    switch (phase) {
      case JOINING -> {
        if (!inbox.queue(e)) {
          log.atWarn().addKeyValue("room", room()).addKeyValue("peer", peer()).log("join backlog overflow; closing");
          link.close(CloseCode.INTERNAL, "join backlog overflow");
        }
      }
      case JOINED, LEAVING -> {
        inbox.give(e);
        if (e instanceof CloseRoom) {
          leave(LeaveReason.DISCONNECTED); // the room is gone: nothing to resume
        }
      }
      case AWAY -> {
        if (e instanceof CloseRoom) {
          leave(LeaveReason.DISCONNECTED);
        } else {
          inbox.hold(e);
        }
      }
      default -> inbox.refuse(e);
    }
  }

  /** A frame written while the peer is away (an ack, an error): held with the rest. */
  private boolean holdWhileAway(String frame) {
    return inbox.hold(frame);
  }

  /** More reached the away peer than its inbox holds: it cannot be given everything, so it leaves. */
  private void heldOverflow() {
    if (phase == Phase.AWAY) {
      log.atInfo().addKeyValue("room", room()).addKeyValue("peer", peer())
          .log("more held for an away peer than limits.resume-buffer allows; it leaves");
      leave(LeaveReason.TIMEOUT);
    }
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
    sessions.exit(member.room(), member.peer(), this);
    inbox.close();
  }
}
