package dev.switchboard.room;

import dev.switchboard.cluster.Envelope;
import dev.switchboard.cluster.Envelope.ClientFrame;
import dev.switchboard.cluster.Envelope.Fence;
import dev.switchboard.cluster.Envelope.Forwarded;
import dev.switchboard.cluster.Envelope.Relay;
import dev.switchboard.cluster.Envelope.RoomMessage;
import java.util.HashSet;
import java.util.Set;

/**
 * What is left of a session on the node it was handed over from: everything that still reaches
 * this node for the peer goes on to its new node, in the order it came, until every sender has
 * switched to the new node (they fence their first message after the move, {@link SenderFences})
 * and the answers to the peer's own earlier relays are in. Messages and fences go on as they
 * are; the frames this node still writes for the peer (those answers) go as {@link ClientFrame}s;
 * a room's close goes on too (it may have been sent to the nodes listed before the move);
 * membership events are the new node's to tell. A room message goes on only from a sender that
 * has not fenced yet, within the fence window: one that has sends it to the new node too. Used
 * on the session's event loop only.
 */
final class Forwarder {

  private final Router router;
  private final String room;
  private final String peer;
  private final String to;
  private final long handedAt = System.nanoTime();
  /** How long after the hand-over a sender may still send room messages here, unaware of the move. */
  private final long fenceWindowNanos;
  /** The room as this node sees it: who moved since the hand-over. */
  private final RoomView view;
  /** Senders whose fence passed here: they reach the new node directly since (at most a room's members). */
  private final Set<String> fenced = new HashSet<>();

  Forwarder(Router router, RoomView view, String room, String peer, String to, long fenceWindowNanos) {
    this.router = router;
    this.view = view;
    this.fenceWindowNanos = fenceWindowNanos;
    this.room = room;
    this.peer = peer;
    this.to = to;
  }

  /** The node the peer moved to. */
  String to() {
    return to;
  }

  /** Hands on an envelope for the peer; false if it is not one to hand on (the new node has its own). */
  boolean forward(Envelope e) {
    return forward(e, null);
  }

  /**
   * {@link #forward(Envelope)} for an envelope from node {@code origin} (null: not known). A room
   * message goes on only from a sender that may not know of the move: one that fenced, or that
   * itself moved here since, to the node it came from, sends to the peer's new node directly.
   */
  boolean forward(Envelope e, String origin) {
    if (e instanceof RoomMessage m && (fenced.contains(m.from())
        || System.nanoTime() - handedAt >= fenceWindowNanos || movedSince(m.from(), origin))) {
      return true; // its sender knows where the peer is: the new node gets it directly, not twice
    }
    if (e instanceof Fence f) {
      fenced.add(f.from());
    }
    if (e instanceof Relay || e instanceof RoomMessage || e instanceof Fence || e instanceof ClientFrame
        || e instanceof Envelope.CloseRoom || e instanceof Envelope.MoveFence) {
      router.send(to, new Forwarded(room, peer, e));
      return true;
    }
    return false;
  }

  /** Whether {@code sender} moved to {@code origin} after the hand-over: that is its new session. */
  private boolean movedSince(String sender, String origin) {
    RoomView.Move move = origin == null ? null : view.recentMoves().get(sender);
    return move != null && move.atNanos() > handedAt && move.node().equals(origin);
  }

  /**
   * Hands on something the session held while the peer was away: a relay held was acknowledged
   * when it was held, so it goes on without asking for a second answer.
   */
  void forwardHeld(Envelope e) {
    forward(e instanceof Relay r && r.ref() != 0
        ? new Relay(r.room(), r.to(), r.from(), r.session(), r.origin(), 0, r.frame(), r.sentAtMicros()) : e);
  }

  /** Hands on a frame this node wrote for the peer. */
  void frame(String frame) {
    forward(new ClientFrame(room, peer, frame));
  }
}
