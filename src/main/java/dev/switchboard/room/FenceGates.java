package dev.switchboard.room;

import dev.switchboard.cluster.Envelope;
import dev.switchboard.cluster.Envelope.Fence;
import dev.switchboard.cluster.Envelope.Relay;
import dev.switchboard.cluster.Envelope.RoomMessage;
import io.vertx.core.Context;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The receiving side of a move's fences, for a session that moved here: a sender's fence comes
 * twice, directly and through the peer's old node (behind what the sender sent there before the
 * move). Between the two, what that sender sends directly is held, so that it arrives after
 * what it sent before ({@link SenderFences}). Bounded in what it holds and in how long: a fence
 * that does not come through opens its gate at once when its node leaves the cluster, or after
 * {@link #MAX_WAIT_NANOS}. What a gate held goes to the session in the order
 * it came. Used on the session's event loop only.
 */
final class FenceGates {

  private static final Logger log = LoggerFactory.getLogger(FenceGates.class);

  /** How long a gate stays shut at most: far longer than a fence takes to come through a live node. */
  static final long MAX_WAIT_NANOS = 5_000_000_000L;

  /** A shut gate: what its sender sent directly meanwhile, since when, and the node its fence comes through. */
  private static final class Gate {
    final ArrayDeque<Envelope> held = new ArrayDeque<>();
    final long shutAt = System.nanoTime();
    final String via;
    /** The number of the fence whose copy through {@code via} opens the gate. */
    final long seq;

    Gate(String via, long seq) {
      this.via = via;
      this.seq = seq;
    }
  }

  private final Context loop;
  private final int maxHeld;
  private final Consumer<Envelope> release;
  private final java.util.function.Predicate<String> inCluster;
  /** By sender; created with the first fence, as most sessions never move. */
  private Map<String, Gate> shut;
  /** Senders whose fence came through the old node before it came directly, with its sequence number. */
  private Map<String, Long> passed;
  private int held;

  /**
   * At most {@code maxHeld} envelopes are held over all gates; past it, every gate opens. What a
   * gate lets through goes to {@code release}. {@code inCluster} says whether a fence's old node
   * is still there to pass its copy on.
   */
  FenceGates(Context loop, int maxHeld, Consumer<Envelope> release, java.util.function.Predicate<String> inCluster) {
    this.inCluster = inCluster;
    this.loop = loop;
    this.maxHeld = maxHeld;
    this.release = release;
  }

  private boolean anyShut() {
    return shut != null && !shut.isEmpty();
  }

  /**
   * A fence that came directly: its sender's direct messages are held from now on, unless the
   * copy through the old node came first.
   */
  void direct(Fence fence) {
    if (!inCluster.test(fence.via())) {
      return; // its copy will never come through a node that left: nothing to wait for
    }
    Long through = passed == null ? null : passed.get(fence.from());
    if (through != null && through >= fence.seq()) {
      passed.remove(fence.from());
      return;
    }
    boolean watched = anyShut();
    if (shut == null) {
      shut = new HashMap<>();
    }
    shut.putIfAbsent(fence.from(), new Gate(fence.via(), fence.seq()));
    if (!watched) {
      watch();
    }
  }

  /** A fence that came through the old node: what its sender's gate held goes on, in order. */
  void through(Fence fence) {
    Gate gate = shut == null ? null : shut.get(fence.from());
    if (gate != null && fence.seq() < gate.seq) {
      return; // an older fence of this sender, passed along a forwarding chain: not this gate's
    }
    if (gate != null) {
      shut.remove(fence.from());
    }
    if (gate == null) {
      if (passed == null) {
        passed = new HashMap<>();
      }
      if (passed.size() >= maxHeld) {
        passed.clear(); // a direct fence then shuts its gate until MAX_WAIT_NANOS: late, not lost
      }
      passed.merge(fence.from(), fence.seq(), Math::max);
      return;
    }
    held -= gate.held.size();
    gate.held.forEach(release);
  }

  /**
   * Holds {@code e} if it came directly from a sender whose gate is shut (a message, its
   * {@code peer-left}, which must not overtake what it sent before, or, once the peer moved on,
   * that sender's fence for the next move, which must follow what it sent here).
   * False if it may be handled now. Past the bound every gate opens and nothing is held.
   */
  boolean hold(Envelope e) {
    if (shut == null || shut.isEmpty()) {
      return false;
    }
    String sender = e instanceof Relay r ? r.from() : e instanceof RoomMessage m ? m.from()
        : e instanceof Fence f ? f.from() : e instanceof Envelope.PeerLeft l ? l.peer() : null;
    Gate gate = sender == null ? null : shut.get(sender);
    if (gate == null) {
      return false;
    }
    if (held >= maxHeld) {
      log.atWarn().addKeyValue("held", held).log("fence gates full: what they held goes on before its fence came");
      openAll();
      return false;
    }
    gate.held.add(e);
    held++;
    return true;
  }

  /** Opens gates that stayed shut longer than {@link #MAX_WAIT_NANOS}, checking again while any is shut. */
  private void watch() {
    loop.owner().setTimer(MAX_WAIT_NANOS / 1_000_000 / 4, t -> {
      long now = System.nanoTime();
      if (shut != null && shut.values().stream().anyMatch(g -> now - g.shutAt >= MAX_WAIT_NANOS)) {
        log.atWarn().log("a sender's fence did not come through the peer's old node in time; its messages go on");
        openAll();
      }
      if (anyShut()) {
        watch();
      }
    });
  }

  /** Node {@code node} left the cluster: the gates whose fence was to come through it open. */
  void nodeLost(String node) {
    if (shut == null) {
      return;
    }
    for (var it = shut.entrySet().iterator(); it.hasNext(); ) {
      Gate g = it.next().getValue();
      if (node.equals(g.via)) {
        it.remove();
        held -= g.held.size();
        g.held.forEach(release);
      }
    }
  }

  /** Opens every gate (the bound was reached, or one waited too long): what they held goes on, each in order. */
  void openAll() {
    if (shut != null) {
      Map<String, Gate> open = shut;
      shut = null;
      open.values().forEach(g -> g.held.forEach(release));
    }
    held = 0;
  }
}
