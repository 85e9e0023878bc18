package dev.switchboard.room;

import dev.switchboard.async.OnLoop;
import dev.switchboard.cluster.Envelope;
import dev.switchboard.cluster.Envelope.CloseRoom;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One peer's session on the node holding its socket: join, relays, room messages, state, leave,
 * and what the peer receives; its membership of the room is its {@link RoomMember}'s. A session
 * outlives a socket that closes without {@code leave}: the peer is away, what reaches it is held,
 * and a client showing the session's token within the window takes it back, here
 * ({@link Resumption}) or through another node ({@link Handoff}).
 * Every method runs on the event loop of the socket the session began with ({@link #home}),
 * except {@link #deliver}, which any thread may call.
 */
public final class PeerSession {

  private static final Logger log = LoggerFactory.getLogger(PeerSession.class);

  /**
   * Where a session is, set by the procedures that move it ({@link FreshJoin}, {@link Resumption},
   * {@link Handoff}). AWAY: with no socket, held for a resume. CLAIMING: being taken over from
   * the node that holds it. HANDED: taken over by another node, which gets what reaches this one.
   */
  enum Phase { NEW, JOINING, CLAIMING, JOINED, AWAY, HANDED, LEAVING, GONE }

  private final PeerSessions sessions;
  private final Router router;
  private final Context context;
  private final long id;
  private final SessionSocket link;
  private final PendingAcks acks;
  private final Roster roster;
  private final PeerInbox inbox;
  private final Resumption resumption;
  private final Handoff handoff;
  /** Read by a resumed socket's loop ({@link #isJoined}); written on the home loop only. */
  private volatile Phase phase = Phase.NEW;
  private RoomMember member;
  private PeerOutbox outbox;
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
    this.handoff = new Handoff(this, sessions, roster);
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
   * Hands {@code e}, from node {@code origin}, to this session on its own event loop, from any
   * thread, in the order handed (FIFO); after the session left, {@link #handle} answers it.
   */
  void deliver(String origin, Envelope e) {
    context.runOnContext(v -> arrived(e, origin, false));
  }

  /** {@link #deliver} for an envelope handed on by the node this peer was on before: it needs no fence. */
  void deliverForwarded(Envelope e) {
    context.runOnContext(v -> arrived(e, null, true));
  }

  /** Joins the room afresh: answers with {@code welcome}, or with an error and a close ({@link FreshJoin}). */
  public Future<Void> join(ClientMessage.Join j) {
    phase = Phase.JOINING;
    return new FreshJoin(this, sessions).run(j);
  }

  /**
   * The store admitted the member (with {@code token}'s digest): the client gets its welcome,
   * carrying {@code token}, and what reached the session meanwhile, unless it asked to leave
   * while the join was in flight.
   */
  Future<Void> welcome(RoomStore.JoinResult r, ResumeToken.Issued token) {
    RoomListing listing = roster.welcomed(room(), peer(), r.seq(), member.joined(r), member.role());
    phase = Phase.JOINED;
    log.atDebug().addKeyValue("room", room()).addKeyValue("peer", peer()).addKeyValue("seq", r.seq()).log("joined");
    if (leaveAfterJoin != null) {
      return leave(leaveAfterJoin);
    }
    sendWelcome(listing, resumption.install(token), null, false);
    if (inbox.open()) {
      return leave(LeaveReason.DISCONNECTED); // the room was closed while the join was in flight
    }
    return Future.succeededFuture();
  }

  /** The session is {@code m}'s from now on (a join or a claim found it). */
  void becomes(RoomMember m) {
    member = m;
    outbox = new PeerOutbox(sessions, link, acks, m, id, context, () -> holdsIdentity() || isHanded(), roster);
  }

  /** Relays an offer, answer, candidate or targeted message to one peer of the room ({@link PeerOutbox}). */
  public void relay(ClientMessage.Relay r) {
    outbox.relay(r);
  }

  /** Sends an application message to every other peer of the room. */
  public void broadcast(ClientMessage.Broadcast b) {
    outbox.broadcast(b);
  }

  /** A message about the peer's media in an sfu room ({@link PeerOutbox#media}). */
  public void media(ClientMessage.Media m) {
    outbox.media(m);
  }

  /** Updates this peer's published state; changes are written to the store one at a time, in order. */
  public void state(ClientMessage.State s) {
    if (outbox == null || !outbox.state(s)) {
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
   * {@code socket} closed, or is closing, without {@code leave}: a joined peer is away for the
   * resume window; one not yet welcomed, or of a stopping node, leaves with {@code reason}. A
   * socket the session no longer writes to (the client resumed on another) changes nothing.
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
    outbox.leaving();
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

  /** Handed over to another node ({@link Handoff}). */
  boolean isHanded() {
    return phase == Phase.HANDED;
  }

  // --- for the procedures that move the session (FreshJoin, Resumption, Handoff), and Recovery ---

  void phase(Phase next) {
    phase = next;
  }

  /** The parts a procedure moving the session works with, besides its phase. */
  record Parts(SessionSocket link, PeerInbox inbox, PendingAcks acks, Resumption resumption, Handoff handoff) {}

  Parts parts() {
    return new Parts(link, inbox, acks, resumption, handoff);
  }

  /** Counts a client message from {@code from}; false (not counted) if the session no longer serves that socket. */
  public boolean heard(PeerSocket from) {
    boolean current = link.current() == from;
    if (current) {
      link.heard();
    }
    return current;
  }

  /** Answers a client message that was refused before the session saw it: both are counted. */
  public void toClient(PeerSocket from, String frame) {
    if (heard(from)) {
      link.send(frame);
    }
  }

  /**
   * The node drains: {@code socket} gets {@code reconnect} ({@code frame}) and closes (1001), and
   * the peer is away at once: what reaches it is held for its resume, not refused meanwhile.
   */
  public void sendAway(PeerSocket socket, String frame) {
    if (link.current() == socket) {
      link.send(frame);
      link.close(CloseCode.GOING_AWAY, "draining");
      socketGone(socket, LeaveReason.DISCONNECTED);
    }
  }

  /** Closes the client's socket, after what the session wrote to it before. */
  public void closeSocket(short code, String reason) {
    link.close(code, reason);
  }

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
   * The client has its session back, resumed here on {@code socket} (served by {@code loop}) or
   * claimed from another node on the session's own: its new welcome lists the room as
   * {@code listing} has it at {@code seq} and tells the count of its messages the session got
   * ({@code told}; null if the node that counted them died); then come the frames it {@code missed}
   * (or those held for it since), and what reached the session meanwhile. A closed room ends it.
   */
  void welcomeBack(PeerSocket socket, Context loop, RoomListing listing, long seq, String token, Long told,
                   List<String> missed) {
    if (socket != null) {
      link.attach(socket, loop);
    }
    phase = Phase.JOINED;
    sendWelcome(roster.welcomed(room(), peer(), seq, listing, member.role()), token, told, true);
    missed.forEach(link::send);
    inbox.replay();
    log.atDebug().addKeyValue("room", room()).addKeyValue("peer", peer()).log("resumed");
    if (inbox.open()) {
      leave(LeaveReason.DISCONNECTED);
    }
  }

  /** {@code node} left the cluster: relays awaiting its answer get one now; fences through it open. */
  void nodeLost(String node) {
    acks.nodeLost(node);
    handoff.nodeLost(node);
  }

  /** The welcome, fresh or {@code resumed}: the room as {@code listing} has it. */
  private void sendWelcome(RoomListing listing, String token, Long told, boolean resumed) {
    link.welcome(ServerMessage.welcome(peer(), room(), router.self(), listing.others().values(),
        member.welcomeRoom(), sessions.iceServers(peer()), sessions.limits().toClientJson(), token,
        resumed ? new ServerMessage.Resumed(told) : null));
  }

  /** Tells the client of a member it has not heard of (see {@link Roster#met}). */
  void met(String other, String peerJoinedFrame) {
    roster.met(other, peerJoinedFrame);
  }

  /** An envelope for this session, on its event loop: a move's first ({@link Handoff}), then the phase's. */
  private void arrived(Envelope e, String origin, boolean forwarded) {
    if (e instanceof Envelope.PeerMoved m) {
      handoff.peerMoved(m);
    } else if (!handoff.takes(e, origin, forwarded)) {
      handle(roster.asSeen(e));
    }
  }

  /** An envelope for this session or for its room, on this session's event loop, as its phase decides. */
  void handle(Envelope e) {
    switch (phase) {
      case JOINING, CLAIMING -> {
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

  /** A frame written while the peer is away (an ack, an error): held with the rest, or handed on once it moved. */
  private boolean holdWhileAway(String frame) {
    return handoff.forwardFrame(frame) || inbox.hold(frame);
  }

  /** More reached the away peer than its inbox holds: it leaves. */
  private void heldOverflow() {
    if (phase == Phase.AWAY) {
      log.atInfo().addKeyValue("room", room()).addKeyValue("peer", peer())
          .log("more held for an away peer than limits.resume-buffer allows; it leaves");
      leave(LeaveReason.TIMEOUT);
    }
  }

  /** Undoes what join set up here: from now on the router no longer finds this session. */
  void exit() {
    phase = Phase.GONE;
    sessions.exit(member.room(), member.peer(), this);
    inbox.close();
  }
}
