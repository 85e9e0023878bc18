package dev.switchboard.room;

import dev.switchboard.cluster.Envelope.Relay;
import dev.switchboard.cluster.Envelope.RoomMessage;
import dev.switchboard.metrics.NodeMetrics;
import dev.switchboard.protocol.ClientMessage;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.ServerMessage;
import io.vertx.core.Context;
import java.util.function.BooleanSupplier;

/**
 * What one member sends to the others of its room: messages to one peer (with the acks they
 * await), messages to the whole room, and changes of its published state. Routed with the
 * node's {@link RoomView}, never through the store; a peer that moved lately is fenced first
 * ({@link SenderFences}), and one whose node died is held for in the store ({@link OrphanMail}).
 * The counterpart of {@link PeerInbox}. Used on the session's event loop only.
 */
final class PeerOutbox {

  private final Router router;
  private final SessionSocket link;
  private final PendingAcks acks;
  private final RoomMember member;
  private final long session;
  private final StateChanges stateChanges;
  private final SenderFences fences;
  private final OrphanMail orphans;
  /** Who the client may send to (a broadcast room's viewer: the presenter only). */
  private final Roster roster;
  private final MediaRequests media;

  /**
   * For {@code member}, whose session {@code session} runs on {@code loop} and answers its
   * client on {@code link}; {@code inRoom} says whether the peer is still in the room.
   */
  PeerOutbox(PeerSessions sessions, SessionSocket link, PendingAcks acks, RoomMember member, long session,
             Context loop, BooleanSupplier inRoom, Roster roster) {
    this.roster = roster;
    this.router = sessions.router();
    this.orphans = new OrphanMail(router, sessions.store(), sessions.limits(), link, acks, member, loop);
    this.link = link;
    this.acks = acks;
    this.member = member;
    this.session = session;
    this.stateChanges = new StateChanges(member, link, loop, inRoom);
    this.fences = new SenderFences(router, member.room().id(), member.peer());
    this.media = new MediaRequests(member, link, loop);
  }

  /** What the member asks of the media server about its own media, in an sfu room. */
  void media(ClientMessage.Media m) {
    media.handle(m);
  }

  /** Relays an offer, answer, candidate or targeted message to one peer of the room. */
  void relay(ClientMessage.Relay r) {
    RoomView view = member.room().view();
    String node = view.nodeOf(r.to());
    if (node == null) {
      link.send(ServerMessage.error(ErrorCode.PEER_NOT_FOUND,
          "peer " + r.to() + " is not in room " + member.room().id(), r.id()));
      return;
    }
    if (!roster.maySignal(r.to())) {
      link.send(ServerMessage.error(ErrorCode.FORBIDDEN, "a viewer may signal only the presenter", r.id()));
      return;
    }
    boolean orphan = orphans.takes(r.to(), node);
    if (orphan && orphans.isFull()) {
      link.send(ServerMessage.error(ErrorCode.RATE_LIMITED,
          "too many messages waiting to be held for peers whose node died", r.id()));
      return;
    }
    long ref = 0;
    if (r.id() != null) {
      if (acks.isFull()) {
        link.send(ServerMessage.error(ErrorCode.RATE_LIMITED, "too many messages awaiting their ack", r.id()));
        return;
      }
      ref = acks.add(r.id(), r.to(), orphan ? OrphanMail.STORE : node);
    }
    Relay relay = new Relay(member.room().id(), r.to(), member.peer(), session, router.self(), ref,
        ServerMessage.relayed(r, member.peer()), NodeMetrics.nowMicros());
    if (orphan) {
      orphans.relay(relay);
      return;
    }
    fences.beforeRelay(view, r.to(), node);
    router.metrics().relayed(r.kind().wire(), node.equals(router.self()));
    router.send(node, relay);
  }

  /** Sends an application message to every other peer of the room. */
  void broadcast(ClientMessage.Broadcast b) {
    RoomView view = member.room().view();
    String[] nodes = view.nodes(); // before the moves: a move is recorded before the route it changes
    fences.beforeBroadcast(view, nodes);
    RoomMessage message = new RoomMessage(member.room().id(), member.peer(),
        ServerMessage.broadcast(b.data(), member.peer()));
    router.announce(nodes, message);
    router.metrics().roomMessage();
    orphans.roomMessage(message);
    if (b.id() != null) {
      link.send(ServerMessage.ack(b.id()));
    }
  }

  /**
   * The member is leaving: its {@code peer-left} goes to the room's nodes next, and must not
   * overtake what it sent to a peer that moved lately (still on its way through the old node).
   */
  void leaving() {
    RoomView view = member.room().view();
    fences.beforeBroadcast(view, view.nodes());
  }

  /** Updates the published state; false if too many changes are in flight (the caller refuses it). */
  boolean state(ClientMessage.State s) {
    return stateChanges.offer(s);
  }
}
