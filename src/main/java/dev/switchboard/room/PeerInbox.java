package dev.switchboard.room;

import dev.switchboard.cluster.Envelope;
import dev.switchboard.cluster.Envelope.Delivered;
import dev.switchboard.cluster.Envelope.Relay;
import dev.switchboard.cluster.Envelope.Undelivered;
import java.util.ArrayDeque;

/**
 * What reaches one peer, by where its session is: queued while its join is in flight (its
 * welcome goes first), given to its client through its {@link Roster} once joined, held while
 * it is away (for its resume), refused once it is gone. The session decides which; this keeps
 * the queues and their bounds. Used on the session's event loop only.
 */
final class PeerInbox {

  /** Envelopes queued while the join's store step is in flight; a room has at most maxPeers members. */
  static final int MAX_QUEUED = 1024;

  private final Router router;
  private final Roster roster;
  private final PeerSocket link;
  private final int maxHeld;
  private final long maxHeldBytes;
  /** Created by the first envelope that arrives during a join: most joins see none. */
  private ArrayDeque<Envelope> queued;
  private final Runnable overflow;
  private HeldMessages held;

  /** {@code overflow} runs when more reaches the away peer than {@code maxHeld} and {@code maxHeldBytes} allow. */
  PeerInbox(Router router, Roster roster, PeerSocket link, int maxHeld, long maxHeldBytes, Runnable overflow) {
    this.router = router;
    this.overflow = overflow;
    this.roster = roster;
    this.link = link;
    this.maxHeld = maxHeld;
    this.maxHeldBytes = maxHeldBytes;
  }

  /** Queues an envelope that arrived before the welcome; false (and {@code e} refused) when full. */
  boolean queue(Envelope e) {
    if (queued == null) {
      queued = new ArrayDeque<>(4);
    }
    if (queued.size() >= MAX_QUEUED) {
      roster.refuse(e);
      return false;
    }
    queued.add(e);
    return true;
  }

  /** The welcome was sent: what was queued goes to the client, in order; true if that closed the room. */
  boolean open() {
    boolean closed = false;
    Envelope e;
    while (queued != null && (e = queued.poll()) != null) {
      roster.deliver(e);
      closed |= e instanceof Envelope.CloseRoom;
    }
    queued = null;
    return closed;
  }

  void give(Envelope e) {
    roster.deliver(e);
  }

  void refuse(Envelope e) {
    roster.refuse(e);
  }

  /** The session ended: what was queued is refused, and what was held is dropped. */
  void close() {
    Envelope e;
    while (queued != null && (e = queued.poll()) != null) {
      roster.refuse(e);
    }
    queued = null;
    held = null;
  }

  /** The peer is away: from now on what reaches it is held. */
  void startHolding() {
    held = new HeldMessages(maxHeld, maxHeldBytes);
  }

  /**
   * Holds what reached the away peer. A relay is acknowledged once held: its ack means
   * delivered, or held for the peer's resume. An answer to one of the peer's own relays is taken
   * at once (before its relay's timeout could turn it into an error) and its ack or error held.
   * A membership event is not held: the resume's welcome lists the room from a later snapshot,
   * so churn while the peer is away does not use up its bound. False if the bounds are passed:
   * {@code e} is then refused (a relay is answered {@code peer-not-found}) and the overflow
   * callback runs (the session ends the peer).
   */
  boolean hold(Envelope e) {
    if (e instanceof Delivered || e instanceof Undelivered) {
      roster.deliver(e); // its frame comes back through the session's socket, into the hold
      return true;
    }
    if (e instanceof Envelope.Membership) {
      return true;
    }
    if (held == null || !held.hold(e)) {
      roster.refuse(e);
      overflow.run();
      return false;
    }
    if (e instanceof Relay r && r.ref() != 0) {
      router.answer(r, Envelope.delivered(r));
    }
    return true;
  }

  /** Holds a frame the session wrote while the peer is away; false, and the overflow callback run, if it does not fit. */
  boolean hold(String frame) {
    if (held != null && held.hold(frame)) {
      return true;
    }
    overflow.run();
    return false;
  }

  /** The session was handed over to another node: what was held goes there, oldest first. */
  void handOver(Forwarder forwarder) {
    HeldMessages h = held;
    held = null;
    if (h != null) {
      h.replay(forwarder::forwardHeld, forwarder::frame);
    }
  }

  /**
   * The peer resumed and has its new welcome: what was held goes to it, oldest first. Relays
   * were answered when they were held; one whose sender left the room meanwhile is dropped.
   */
  void replay() {
    HeldMessages h = held;
    held = null;
    if (h == null) {
      return;
    }
    h.replay(e -> {
      if (e instanceof Relay r) {
        if (roster.knows(r.from())) {
          link.send(r.frame());
        }
      } else {
        roster.deliver(e);
      }
    }, link::send);
  }
}
