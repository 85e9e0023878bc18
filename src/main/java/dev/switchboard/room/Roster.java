package dev.switchboard.room;

import dev.switchboard.cluster.Envelope;
import dev.switchboard.cluster.Envelope.CloseRoom;
import dev.switchboard.cluster.Envelope.Delivered;
import dev.switchboard.cluster.Envelope.PeerJoined;
import dev.switchboard.cluster.Envelope.PeerLeft;
import dev.switchboard.cluster.Envelope.PeerStateChanged;
import dev.switchboard.cluster.Envelope.Relay;
import dev.switchboard.cluster.Envelope.RoomMessage;
import dev.switchboard.cluster.Envelope.Undelivered;
import dev.switchboard.protocol.ClientMessage;
import dev.switchboard.protocol.CloseCode;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.ServerMessage;
import io.vertx.core.json.JsonObject;
import java.util.HashSet;
import java.util.Set;

/**
 * The room as one joined peer's client knows it: the peers it was told are in the room (its
 * welcome, then {@code peer-joined} and {@code peer-left}). It decides what of the envelopes
 * reaching the session the client is given: nothing from or about a peer outside it, no
 * membership event its welcome already showed, no second {@code peer-joined} for a peer it
 * knows. A broadcast room's viewer knows only the presenter, may signal only the presenter, and
 * sees the room end when the presenter leaves for good. Used on the session's event loop only.
 */
final class Roster {

  private final Router router;
  private final SessionSocket link;
  private final PendingAcks acks;
  private final Set<String> known = new HashSet<>();
  private String room;
  private String peer;
  private long welcomeSeq;
  /** Whether the client is a broadcast room's viewer; then, the presenter it knows of (null if none yet). */
  private boolean viewer;
  private String presenter;

  Roster(Router router, SessionSocket link, PendingAcks acks) {
    this.router = router;
    this.link = link;
    this.acks = acks;
  }

  /**
   * The client of a member of {@code role} gets its welcome, fresh or of a resume: the room at
   * sequence {@code seq} as {@code listing} has it, whatever it knew before. Returns the listing
   * as the client is shown it.
   */
  RoomListing welcomed(String room, String peer, long seq, RoomListing listing, ClientMessage.Role role) {
    RoomListing seen = listing.visibleTo(role);
    known.clear();
    this.room = room;
    this.peer = peer;
    this.welcomeSeq = seq;
    known.addAll(seen.others().keySet());
    viewer = role == ClientMessage.Role.VIEWER;
    presenter = viewer ? seen.others().keySet().stream().findFirst().orElse(null) : null;
    return seen;
  }

  /** Whether the client may send to {@code other}: a viewer, only to the presenter. */
  boolean maySignal(String other) {
    return !viewer || other.equals(presenter);
  }

  /**
   * What of {@code e} the session is to act on: for a viewer, the presenter leaving for good
   * ends the room (as a room closed by an operator does). A leave that reaches a viewer still
   * joining is shown as {@code peer-left}.
   */
  Envelope asSeen(Envelope e) {
    if (viewer && e instanceof PeerLeft l && l.peer().equals(presenter) && isNewAbout(l.peer(), l.seq())) {
      return new CloseRoom(room, ServerMessage.roomClosed("the presenter left"));
    }
    return e;
  }

  /** Whether the client knows {@code other} is in the room. */
  boolean knows(String other) {
    return known.contains(other);
  }

  /**
   * Tells the client of a peer it has not heard of, found in the room after the store lost its
   * data and was written back (its join event never reached this node).
   */
  void met(String other, String peerJoinedFrame) {
    if (!other.equals(peer) && known.add(other)) {
      link.sendMembership(peerJoinedFrame);
    }
  }

  void deliver(Envelope e) {
    if (e instanceof Relay r) {
      if (!known.contains(r.from())) {
        refuse(r); // a sender this client never saw join: it left before this peer's welcome
      } else if (!link.send(r.frame())) {
        refuse(r); // the socket closed under it: not delivered
      } else {
        router.metrics().relayDelivered(router.self().equals(r.origin()), r.sentAtMicros());
        if (r.ref() != 0) {
          router.answer(r, Envelope.delivered(r));
        }
      }
    } else if (e instanceof RoomMessage m) {
      if (known.contains(m.from())) {
        link.send(m.frame());
      }
    } else if (e instanceof PeerJoined j) {
      if (isNewAbout(j.peer(), j.seq()) && (!viewer || isPresenter(j)) && known.add(j.peer())) {
        link.sendMembership(j.frame());
      }
    } else if (e instanceof PeerLeft l) {
      if (isNewAbout(l.peer(), l.seq()) && known.remove(l.peer())) {
        link.sendMembership(l.frame());
      }
    } else if (e instanceof PeerStateChanged s) {
      if (isNewAbout(s.peer(), s.seq()) && known.contains(s.peer())) {
        link.sendMembership(s.frame());
      }
    } else if (e instanceof Delivered d) {
      Object clientId = acks.take(d.ref());
      if (clientId != null) {
        link.send(ServerMessage.ack(clientId));
      }
    } else if (e instanceof Undelivered u) {
      Object clientId = u.ref() == 0 ? null : acks.take(u.ref());
      if (u.ref() == 0 || clientId != null) {
        ErrorCode code = ErrorCode.fromWire(u.code());
        link.send(ServerMessage.error(code == null ? ErrorCode.UNAVAILABLE : code,
            "the target peer is not in room " + room, clientId));
      }
    } else if (e instanceof Envelope.ClientFrame f) {
      link.send(f.frame()); // written for this client by the node it was on before: already decided
    } else if (e instanceof CloseRoom c) {
      link.send(c.frame());
      link.close(CloseCode.NORMAL, "room closed");
    }
  }

  /** For a viewer: whether {@code j} is the presenter's join (then it is the presenter from now on). */
  private boolean isPresenter(PeerJoined j) {
    boolean is = ClientMessage.Role.PRESENTER.wire().equals(new JsonObject(j.frame()).getString("role"));
    if (is) {
      presenter = j.peer();
    }
    return is;
  }

  /** Answers a relay that will not be delivered with peer-not-found; anything else is dropped. */
  void refuse(Envelope e) {
    if (e instanceof Relay r) {
      router.answer(r, Envelope.undelivered(r, ErrorCode.PEER_NOT_FOUND.wire()));
    }
  }

  /** A membership event about another peer, newer than this peer's welcome. */
  private boolean isNewAbout(String subject, long seq) {
    return !peer.equals(subject) && seq > welcomeSeq;
  }
}
