package dev.switchboard.room;

import dev.switchboard.async.OnLoop;
import dev.switchboard.cluster.Envelope;
import dev.switchboard.cluster.Envelope.Claim;
import dev.switchboard.cluster.Envelope.ClaimRefused;
import dev.switchboard.cluster.Envelope.Fence;
import dev.switchboard.cluster.Envelope.RoomMessage;
import dev.switchboard.protocol.ClientMessage;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.LeaveReason;
import dev.switchboard.protocol.ServerMessage;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A session's moves between nodes, as a cell network hands a call from one base station to the
 * next: on the node the client came back to, the claim ({@link Claimant}) and the fences that
 * keep each sender's messages in order across the move ({@link FenceGates}); on the node that
 * held the session, the hand-over and the forwarding that follows it ({@link Forwarder}). The
 * session keeps its phases; this decides what of the envelopes reaching it belong to a move.
 * docs/design.md, "Resume through another node", has the whole protocol. Used on the session's
 * event loop only.
 */
final class Handoff {

  private static final Logger log = LoggerFactory.getLogger(Handoff.class);

  private final PeerSession session;
  private final PeerSessions sessions;
  private final Router router;
  /** The session's view of who is in the room, through which what a gate lets through goes as when it arrived. */
  private final Roster roster;
  /** While the session is being claimed here. */
  private Claimant claimant;
  /** Once the session was handed over to another node; read by the router's thread too. */
  private volatile Forwarder forwarder;
  /** Whether the store moved the peer to the node it was handed to (its PeerMoved came back here). */
  private boolean moveConfirmed;
  /** Created with the first fence that reaches the session: only moved peers get any. */
  private FenceGates gates;
  /**
   * Created with the first move of another member: holds what a moved sender sends from its new
   * node until its old node's {@link Envelope.MoveFence} says all it sent from there is here.
   */
  private FenceGates senderGates;
  /**
   * Claimed from another node: the members then and their nodes, whose direct fence has not come
   * yet. A room message such a sender sent from there before it knew of the move comes through
   * the old node; its direct copy (the new node may have held other members) is dropped, for the
   * fence window. One it sends from a node it moved to since comes directly only.
   */
  private Map<String, String> unfenced;
  private long claimedAt;
  /** Claimed from another node: that node, through which what was sent to the peer there still comes. */
  private String movedFrom;
  /** Claimed from another node: the answers to the peer's relays it still owes (null if none). */
  private InheritedAnswers inherited;

  Handoff(PeerSession session, PeerSessions sessions, Roster roster) {
    this.session = session;
    this.roster = roster;
    this.sessions = sessions;
    this.router = sessions.router();
  }

  /**
   * Claims, for this new session, the peer of {@code j}, which another node may hold: the
   * client came back through this node ({@link Claimant}).
   */
  Future<PeerSessions.Resumed> claim(ClientMessage.Join j) {
    session.phase(PeerSession.Phase.CLAIMING);
    LocalRoom room = sessions.enter(j.room(), j.peer(), session);
    if (room == null) {
      session.phase(PeerSession.Phase.NEW);
      return Future.succeededFuture(PeerSessions.Resumed.GONE); // held here after all: a join says so
    }
    claimant = new Claimant(session, sessions, j);
    return claimant.start(room).onComplete(ar -> claimant = null);
  }

  /** The claim ended without the session: what was queued for it is refused, and a join may follow. */
  void unclaimed(LocalRoom room, String peer) {
    sessions.exit(room, peer, session);
    session.parts().inbox().close();
    session.phase(PeerSession.Phase.NEW);
  }

  /** Whether the session was handed over to {@code node} (what reaches it is forwarded there). */
  boolean forwardsTo(String node) {
    Forwarder f = forwarder;
    return f != null && f.to().equals(node);
  }

  /**
   * Takes the envelopes that belong to a move; false for the others, which the session's phase
   * decides. {@code origin}: the node {@code e} came from; {@code forwarded}: handed on by the
   * peer's previous node (it needs no fence).
   */
  boolean takes(Envelope e, String origin, boolean forwarded) {
    if (e instanceof Envelope.MoveFence f) {
      moveFenceArrived(f, origin, forwarded);
      return true;
    }
    if (forwarder != null) {
      if (e instanceof Fence f && forwarded) {
        // A fence came through the node before this one: what its gate here held goes on, in
        // order, and the fence after it, along the chain to the node its sender now sends to.
        if (gates != null) {
          gates.fenceCame(f.from(), f.seq());
        }
        forwarder.forward(f);
      } else if (e instanceof ClaimRefused r) {
        if (forwarder.to().equals(r.node())) {
          forget(); // the node it went to gave its claim up: nothing is to be forwarded any more
        }
      } else if (e instanceof Claim c) {
        router.send(c.node(), new ClaimRefused(c.room(), c.peer(), ClaimRefused.GONE, router.self()));
      } else if (e instanceof Envelope.Delivered || e instanceof Envelope.Undelivered) {
        // The answer to a relay the peer sent from here: its ack or error goes on as a frame.
        session.parts().inbox().give(e);
      } else if (!forwarded && gated(e, origin)) {
        return true; // behind what its sender's gate here still holds: goes on when that opens
      } else if (!forwarder.forward(e, origin)) {
        return false; // not one to hand on: the session refuses it
      }
      return true;
    }
    if (e instanceof Claim c) {
      handOver(c);
    } else if (e instanceof Envelope.Handover || e instanceof ClaimRefused) {
      if (claimant != null) {
        claimant.answered(e);
      }
    } else if (e instanceof Fence f) {
      if (!forwarded && unfenced != null) {
        unfenced.remove(f.from());
      }
      fenceArrived(f, forwarded);
    } else if (e instanceof Envelope.ClientFrame f && forwarded && inherited != null) {
      inherited.passedOn(f.frame());
      return false;
    } else if (e instanceof RoomMessage m && !forwarded && unfenced != null && origin != null
        && origin.equals(unfenced.get(m.from()))
        && System.nanoTime() - claimedAt < sessions.moveWindows().fenceWindowNanos()) {
      return true; // sent before its sender knew of the move: it comes through the old node
    } else {
      return !forwarded && gated(e, origin);
    }
    return true;
  }

  /**
   * Whether a gate holds {@code e}, which came directly from {@code origin}: the gate of a sender
   * whose fence for this session's move has not come, or of a sender that moved and whose old
   * node's move fence has not come. What one lets through is offered to the other.
   */
  private boolean gated(Envelope e, String origin) {
    return gates != null && gates.hold(e, origin) || senderGates != null && senderGates.hold(e, origin);
  }

  /** The session was handed over from {@code from}, which still owes the answers to the relays in {@code pending}. */
  void inherit(String from, String pending) {
    movedFrom = from;
    InheritedAnswers owed = new InheritedAnswers(from, pending);
    inherited = owed.isEmpty() ? null : owed;
  }

  /**
   * The session was adopted from a node that died ({@link Claimant}): nothing comes through that
   * node, so no sender's messages are waited for there.
   */
  void adopted() {
    unfenced = null;
  }

  /** The claim found the room's other members on these nodes in the store ({@link Claimant}): none has fenced yet. */
  void claiming(Map<String, String> members) {
    claimedAt = System.nanoTime();
    unfenced = new HashMap<>(members);
  }

  /**
   * {@code m} moved a peer of the room: the session's relays awaiting an answer from the old node
   * now await the new one's. If it is this session's own move away, the store has it, and the
   * room's nodes hear that all the peer sent from here went before. If another member moved,
   * what it sends from its new node waits for what it sent from its old one.
   */
  void peerMoved(Envelope.PeerMoved m) {
    session.parts().acks().moved(m.peer(), m.from(), m.node());
    Forwarder f = forwarder;
    if (m.peer().equals(session.peer())) {
      if (f != null && m.from().equals(router.self()) && f.to().equals(m.node()) && !moveConfirmed) {
        moveConfirmed = true;
        fenceOwnMove(m);
      }
    } else if (!m.from().equals(router.self())) {
      // What it sent from here reached this session already, in order: only another node's road can lag.
      senderGates().shut(m.peer(), m.from(), m.seq());
    }
  }

  /**
   * The store moved this session's peer away: a {@link Envelope.MoveFence} goes from its event loop,
   * so behind what it sent from here, by every road that may have carried that: to the room's nodes,
   * those members moved away from lately, and this one (their forwarders pass it on in order).
   */
  private void fenceOwnMove(Envelope.PeerMoved m) {
    RoomView view = session.member().room().view();
    Set<String> targets = new LinkedHashSet<>(Arrays.asList(view.nodes()));
    view.recentMoves().values().forEach(move -> targets.add(move.from()));
    targets.add(router.self());
    targets.removeIf(node -> !router.inCluster(node));
    Envelope.MoveFence fence = new Envelope.MoveFence(m.room(), m.peer(), router.self(), m.seq(),
        new JsonArray(List.copyOf(targets)).encode());
    targets.forEach(node -> router.send(node, fence));
  }

  /**
   * A moved sender's move fence reached this session, directly from its old node (held if a gate
   * for that sender's earlier move is still shut) or {@code forwarded} through the node this
   * session's peer moved away from.
   */
  private void moveFenceArrived(Envelope.MoveFence f, String origin, boolean forwarded) {
    if (f.peer().equals(session.peer()) || forwarder == null && f.from().equals(router.self())) {
      return; // its own move's, or from this very node, whose messages are here already
    }
    if (!forwarded && senderGates != null && senderGates.hold(f, origin)) {
      return;
    }
    moveFenced(f, forwarded ? FenceGates.THROUGH : FenceGates.DIRECT);
  }

  /**
   * A copy of a moved sender's move fence came by {@code road}. Its gate here opens once the copy
   * by every road it was sent on to this session has come: directly, if it was sent to this
   * node, and through the node the peer moved away from lately, if it was sent there. A session
   * handed over passes it on behind what it forwards.
   */
  private void moveFenced(Envelope.MoveFence f, int road) {
    JsonArray targets = new JsonArray(f.targets());
    boolean movedLately = movedFrom != null && router.inCluster(movedFrom)
        && System.nanoTime() - claimedAt < sessions.moveWindows().fenceWindowNanos();
    int expected = (targets.contains(router.self()) ? FenceGates.DIRECT : 0)
        | (movedLately && targets.contains(movedFrom) ? FenceGates.THROUGH : 0);
    senderGates().fenceCame(f.peer(), f.seq(), road, expected == 0 ? road : expected);
    if (forwarder != null) {
      forwarder.forward(f);
    }
  }

  /** A frame the session wrote with no socket: handed on once it moved. False if it has not. */
  boolean forwardFrame(String frame) {
    if (forwarder == null) {
      return false;
    }
    forwarder.frame(frame);
    return true;
  }

  /** {@code node} left the cluster: fences that were to come through it will not, nor the answer to a claim. */
  void nodeLost(String node) {
    if (claimant != null) {
      claimant.nodeLost(node);
    }
    if (gates != null) {
      gates.nodeLost(node);
    }
    if (senderGates != null) {
      senderGates.nodeLost(node);
      if (node.equals(movedFrom)) {
        senderGates.roadLost(FenceGates.THROUGH); // no copy of a move fence comes through it any more
      }
    }
    if (inherited != null) {
      for (Object id : inherited.lost(node)) {
        session.parts().link().send(ServerMessage.error(ErrorCode.UNAVAILABLE,
            "the node that held your session left before the answer came; it may or may not have been delivered", id));
      }
    }
  }

  /**
   * Another node claims this session for its client ({@link Claimant}): with a token this node
   * would take for a resume of its own, the session is handed over (what the client missed and
   * what was held go first) and this node forwards what still reaches it for the peer; otherwise
   * the claim is refused and nothing changes.
   */
  private void handOver(Claim c) {
    Resumption.Takeover t = session.holdsIdentity()
        ? session.parts().resumption().check(token -> token.matchesDigest(c.tokenDigest()), c.received()) : null;
    if (t == null) {
      router.send(c.node(), new ClaimRefused(c.room(), c.peer(),
          session.holdsIdentity() ? ClaimRefused.TOKEN : ClaimRefused.GONE, router.self()));
      return;
    }
    session.takeFromSocket();
    if (t.missed() == null) {
      Resumption.tooLate(session, c.received());
      // Refused once the leave is written: the claimant's fresh join must not find the id taken.
      session.leave(LeaveReason.DISCONNECTED).onComplete(ar ->
          router.send(c.node(), new ClaimRefused(c.room(), c.peer(), ClaimRefused.GONE, router.self())));
      return;
    }
    session.member().leaveMedia(); // its media room place is not carried over (docs/media.md)
    forwarder = new Forwarder(router, session.member().room().view(), c.room(), c.peer(), c.node(),
        sessions.moveWindows().fenceWindowNanos());
    String pending = new JsonArray(session.parts().acks().pendingIds()).encode();
    router.send(c.node(), new Envelope.Handover(c.room(), c.peer(), t.told(), pending));
    t.missed().forEach(forwarder::frame);
    session.parts().resumption().end();
    session.phase(PeerSession.Phase.HANDED);
    session.parts().inbox().handOver(forwarder);
    // The node holds the peer until the answers to its relays from here are in (and forwarded):
    // a draining node waits for them before it exits.
    session.parts().acks().drained().onComplete(ar -> sessions.released());
    session.home().owner().setTimer(sessions.moveWindows().forwarderLingerMs(), id -> forget());
    log.atInfo().addKeyValue("room", c.room()).addKeyValue("peer", c.peer()).addKeyValue("to", c.node())
        .log("session handed over to another node");
  }

  /**
   * The forwarder is done (its time is up, or the new node gave up the claim). If the move never
   * reached the store the peer is still listed here, and leaves; otherwise nothing is said.
   */
  private void forget() {
    if (!session.isHanded()) {
      return;
    }
    forwarder = null;
    session.phase(PeerSession.Phase.GONE);
    session.parts().acks().clear();
    RoomMember member = session.member();
    PeerSession now = member.room().session(member.peer());
    boolean backHere = now != null && now != session;
    sessions.forget(member.room(), member.peer(), session);
    session.parts().inbox().close();
    if (moveConfirmed || backHere) {
      return; // the peer lives on elsewhere, or here again: nothing to remove
    }
    OnLoop.of(session.home(), member.leave()).onSuccess(c -> {
      if (c.applied()) {
        member.left(Future.succeededFuture(c), LeaveReason.TIMEOUT);
      }
    });
  }

  /**
   * What a gate let through, which came from {@code origin}: held by the {@code other} kind of
   * gate if that is shut for its sender, else the session's, or, once it moved on, the next
   * node's (in the order held). A moved sender's fence for its next move, held behind what it
   * sent meanwhile, opens that sender's gate now.
   */
  private void released(Envelope e, String origin, FenceGates other) {
    if (other != null && other.hold(e, origin)) {
      return;
    }
    if (e instanceof Envelope.MoveFence f) {
      moveFenced(f, FenceGates.DIRECT); // held only if it came directly
    } else if (forwarder == null || !forwarder.forward(e, origin)) {
      session.handle(roster.asSeen(e)); // as when it arrived: a viewer sees its presenter's leave as the room's close
    }
  }

  /** The gates for senders that moved, opened by their old node's move fence; created with the first. */
  private FenceGates senderGates() {
    if (senderGates == null) {
      senderGates = newGates(true);
    }
    return senderGates;
  }

  /**
   * Gates for the fences of senders to this session, which moved here, or ({@code forMovedSenders})
   * for senders that moved; what one kind lets through is offered to the other.
   */
  private FenceGates newGates(boolean forMovedSenders) {
    return new FenceGates(session.home(), session.room(), session.peer(), sessions.limits().resumeBufferMessages(),
        (e, origin) -> released(e, origin, forMovedSenders ? gates : senderGates), router::inCluster, forMovedSenders);
  }

  private void fenceArrived(Fence f, boolean forwarded) {
    if (gates == null) {
      gates = newGates(false);
    }
    if (forwarded) {
      gates.fenceCame(f.from(), f.seq());
    } else {
      gates.shut(f.from(), f.via(), f.seq());
    }
  }
}
