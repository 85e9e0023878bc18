package dev.switchboard.room;

import dev.switchboard.cluster.Envelope;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.ServerMessage;
import java.util.HashSet;
import java.util.Set;

/**
 * What one joined peer's client is given of what reaches its session. It keeps the set of
 * peers the client knows are in the room (its welcome, then {@code peer-joined} and
 * {@code peer-left}) and hands over nothing from or about a peer outside it, nor a membership
 * event its welcome already showed. Used on the session's event loop only.
 */
final class PeerInbox {

  private final Rooms rooms;
  private final PeerLink link;
  private final PendingAcks acks;
  private final Set<String> known = new HashSet<>();
  private String room;
  private String peer;
  private long welcomeSeq;

  PeerInbox(Rooms rooms, PeerLink link, PendingAcks acks) {
    this.rooms = rooms;
    this.link = link;
    this.acks = acks;
  }

  /** The client got its welcome: the room at sequence {@code seq}, with {@code others} in it. */
  void welcomed(String room, String peer, long seq, Set<String> others) {
    this.room = room;
    this.peer = peer;
    this.welcomeSeq = seq;
    known.addAll(others);
  }

  void deliver(Envelope e) {
    switch (e.kind()) {
      case RELAY -> {
        if (!known.contains(e.from())) {
          nack(e); // a sender this client never saw join: it left before this peer's welcome
          return;
        }
        if (!link.send(e.payload())) {
          nack(e); // the socket closed under it: not delivered
        } else if (e.ref() != 0) {
          rooms.channel().send(e.origin(), Envelope.ack(e, rooms.nodeId()));
        }
      }
      case ROOM -> {
        if (known.contains(e.from())) {
          link.send(e.payload());
        }
      }
      case JOINED -> {
        if (isNewAbout(e)) {
          known.add(e.peer());
          link.send(e.payload());
        }
      }
      case LEFT -> {
        if (isNewAbout(e) && known.remove(e.peer())) {
          link.send(e.payload());
        }
      }
      case STATE -> {
        if (isNewAbout(e) && known.contains(e.peer())) {
          link.send(e.payload());
        }
      }
      case ACK -> {
        Object clientId = acks.take(e.ref());
        if (clientId != null) {
          link.send(ServerMessage.ack(clientId));
        }
      }
      case NACK -> {
        Object clientId = e.ref() == 0 ? null : acks.take(e.ref());
        if (e.ref() == 0 || clientId != null) {
          ErrorCode code = ErrorCode.fromWire(e.payload());
          link.send(ServerMessage.error(code == null ? ErrorCode.UNAVAILABLE : code,
              "the target peer is not in room " + room, clientId));
        }
      }
      case CLOSE_ROOM -> {
        link.send(e.payload());
        link.close(dev.switchboard.protocol.CloseCode.NORMAL, "room closed");
      }
      default -> throw new IllegalStateException("unknown envelope kind " + e.kind());
    }
  }

  /** Answers a relay that will not be delivered with peer-not-found; drops anything else. */
  void nack(Envelope e) {
    if (e.kind() == Envelope.Kind.RELAY) {
      rooms.channel().send(e.origin(), Envelope.nack(e, rooms.nodeId(), ErrorCode.PEER_NOT_FOUND.wire()));
    }
  }

  /** A membership event about another peer, newer than this peer's welcome. */
  private boolean isNewAbout(Envelope e) {
    return !peer.equals(e.peer()) && e.seq() > welcomeSeq;
  }
}
