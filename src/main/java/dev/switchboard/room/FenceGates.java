package dev.switchboard.room;

import dev.switchboard.cluster.Envelope;
import dev.switchboard.cluster.Envelope.Fence;
import dev.switchboard.cluster.Envelope.Relay;
import dev.switchboard.cluster.Envelope.RoomMessage;
import io.vertx.core.Context;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gates that keep one sender's messages in order when they come on two roads, for one
 * session. Between a gate's shutting and its fence coming through the old road, what that
 * sender's messages bring by the new road is held, so that it arrives after what the old road
 * still carries. Two kinds of move make a road change, each with its own instance in
 * {@link Handoff}:
 * <ul>
 *   <li>this session's peer moved here: a sender's {@link Fence} comes twice, directly (which
 *       shuts the gate) and through the peer's old node, behind what the sender sent there
 *       (which opens it; {@link SenderFences});</li>
 *   <li>a sender moved to another node: its {@link Envelope.PeerMoved} shuts the gate, and its
 *       old node's {@link Envelope.MoveFence}, behind what it sent from there, opens it.</li>
 * </ul>
 * Bounded in what it holds and in how long: a fence that does not come through opens its gate
 * at once when its node leaves the cluster, or after {@link #MAX_WAIT_NANOS}. What a gate held
 * goes on in the order it came. Used on the session's event loop only.
 */
final class FenceGates {

  private static final Logger log = LoggerFactory.getLogger(FenceGates.class);

  /** A fence's copy that came directly from the node it was sent from. */
  static final int DIRECT = 1;
  /** A fence's copy that came through a node the receiving peer moved away from (forwarded). */
  static final int THROUGH = 2;

  /** How long a gate stays shut at most: far longer than a fence takes to come through a live node. */
  static final long MAX_WAIT_NANOS = 5_000_000_000L;

  /** An envelope a gate holds, and the node it came from (null: this one, or not known). */
  private record Held(Envelope envelope, String origin) {
  }

  /** A shut gate: what its sender sent by the new road meanwhile, since when, and the node its fence comes through. */
  private static final class Gate {
    final ArrayDeque<Held> held = new ArrayDeque<>();
    final long shutAt = System.nanoTime();
    final String via;
    /** The number of the fence whose copy through {@code via} opens the gate. */
    final long seq;
    /** The roads ({@link #DIRECT}, {@link #THROUGH}) its fence came by, and those it comes by (0: not known yet). */
    int came;
    int expected;

    Gate(String via, long seq) {
      this.via = via;
      this.seq = seq;
    }
  }

  private final Context loop;
  /** The receiving session's room and peer, for the log. */
  private final String room;
  private final String peer;
  private final int maxHeld;
  private final BiConsumer<Envelope, String> release;
  private final java.util.function.Predicate<String> inCluster;
  /** Whether what came from a gate's old node passes it: for a sender's move, not a receiver's ({@link #hold}). */
  private final boolean byOrigin;
  /** By sender; created with the first fence, as most sessions never move. */
  private Map<String, Gate> shut;
  /** A fence that came before its gate shut: its number, the roads it came by and those it is to come by. */
  private record Passed(long seq, int came, int expected) {
    boolean complete() {
      return (came & expected) == expected;
    }
  }

  /** Senders whose fence came (by some or all of its roads) before their gate shut. */
  private Map<String, Passed> passed;
  private int held;
  /** Whether a timer for the earliest gate's time limit is pending: one at a time. */
  private boolean watching;

  /**
   * The gates of the session of {@code peer} in {@code room}, on {@code loop}.
   * At most {@code maxHeld} envelopes are held over all gates; past it, every gate opens. What a
   * gate lets through goes to {@code release}, with the node it came from. {@code inCluster} says
   * whether a fence's old node is still there to pass its copy on. {@code byOrigin}: see
   * {@link #hold}.
   */
  FenceGates(Context loop, String room, String peer, int maxHeld, BiConsumer<Envelope, String> release,
             java.util.function.Predicate<String> inCluster, boolean byOrigin) {
    this.room = room;
    this.peer = peer;
    this.inCluster = inCluster;
    this.byOrigin = byOrigin;
    this.loop = loop;
    this.maxHeld = maxHeld;
    this.release = release;
  }

  private boolean anyShut() {
    return shut != null && !shut.isEmpty();
  }

  /**
   * Shuts {@code sender}'s gate, whose fence numbered {@code seq} is to come through {@code via}:
   * its messages are held from now on, unless that fence came first (by every road it takes).
   */
  void shut(String sender, String via, long seq) {
    if (!inCluster.test(via)) {
      return; // the fence will never come through a node that left: nothing to wait for
    }
    Passed early = passed == null ? null : passed.get(sender);
    if (early != null && early.seq() < seq) {
      early = null; // an older fence's: it stays for that one's gate, should its direct copy come late
    } else if (early != null) {
      passed.remove(sender);
      if (early.seq() > seq || early.complete()) {
        return;
      }
    }
    if (shut == null) {
      shut = new HashMap<>();
    }
    Gate gate = shut.computeIfAbsent(sender, s -> new Gate(via, seq));
    if (early != null && early.seq() == gate.seq) {
      gate.came = early.came(); // one road's copy came already; the other is on its way
      gate.expected = early.expected();
    }
    if (!watching) {
      watch();
    }
  }

  /** {@code sender}'s fence numbered {@code seq} came through: what its gate held goes on, in order. */
  void fenceCame(String sender, long seq) {
    fenceCame(sender, seq, THROUGH, THROUGH);
  }

  /**
   * A copy of {@code sender}'s fence numbered {@code seq} came by {@code road}, of those it is
   * sent by to reach this session ({@code expected}): once all have come, what its gate held goes
   * on, in order. A later fence of the sender opens an earlier gate at once, but for a sender's
   * move ({@code byOrigin}): the later fence says nothing of the earlier move's old node.
   */
  void fenceCame(String sender, long seq, int road, int expected) {
    Gate gate = shut == null ? null : shut.get(sender);
    if (gate != null && seq < gate.seq) {
      return; // an older fence of this sender, passed along a forwarding chain: not this gate's
    }
    if (gate == null || byOrigin && seq > gate.seq) {
      if (passed == null) {
        passed = new HashMap<>();
      }
      if (passed.size() >= maxHeld) {
        passed.clear(); // a gate then shuts until MAX_WAIT_NANOS: late, not lost
      }
      Passed before = passed.get(sender);
      if (before == null || before.seq() < seq) {
        passed.put(sender, new Passed(seq, road, expected));
      } else if (before.seq() == seq) {
        passed.put(sender, new Passed(seq, before.came() | road, expected));
      }
      return;
    }
    if (seq == gate.seq) {
      gate.came |= road;
      gate.expected = expected;
      if ((gate.came & expected) != expected) {
        return; // its copy by another road is still on its way
      }
    }
    shut.remove(sender);
    release(gate);
  }

  /**
   * Holds {@code e}, which came from node {@code origin} (not forwarded), if its sender's gate is
   * shut: a message, its {@code peer-left} and a later {@code peer-joined}, which must not
   * overtake what it sent before, or its fence for a next move, which must follow what it sent
   * meanwhile. When a sender moved ({@code byOrigin}), what came from its old node is what the
   * gate waits for and passes; when the receiver moved, what comes through its old node comes
   * forwarded and never reaches here. False if it may be handled now. Past the bound every gate
   * opens and nothing is held.
   */
  boolean hold(Envelope e, String origin) {
    if (shut == null || shut.isEmpty()) {
      return false;
    }
    String sender = e instanceof Relay r ? r.from() : e instanceof RoomMessage m ? m.from()
        : e instanceof Fence f ? f.from() : e instanceof Envelope.PeerLeft l ? l.peer()
        : e instanceof Envelope.PeerJoined j ? j.peer() : e instanceof Envelope.MoveFence m ? m.peer() : null;
    Gate gate = sender == null ? null : shut.get(sender);
    if (gate == null || byOrigin && gate.via.equals(origin)) {
      return false; // not gated, or it came by the old road, which the gate waits for
    }
    if (held >= maxHeld) {
      log.atWarn().addKeyValue("room", room).addKeyValue("peer", peer).addKeyValue("held", held)
          .log("fence gates full: what they held goes on before its fence came");
      openAll();
      return false;
    }
    gate.held.add(new Held(e, origin));
    held++;
    return true;
  }

  /** What {@code gate} held goes on, in order. */
  private void release(Gate gate) {
    held -= gate.held.size();
    gate.held.forEach(h -> release.accept(h.envelope(), h.origin()));
  }

  /**
   * Opens each gate when it has been shut for {@link #MAX_WAIT_NANOS}, the earliest first: one
   * timer at a time, while any gate is shut.
   */
  private void watch() {
    long firstShut = shut.values().stream().mapToLong(g -> g.shutAt).min().orElseThrow();
    long waitMs = Math.max(1, (firstShut + MAX_WAIT_NANOS - System.nanoTime()) / 1_000_000 + 1);
    watching = true;
    loop.owner().setTimer(waitMs, t -> {
      watching = false;
      long now = System.nanoTime();
      openWhere(g -> now - g.shutAt >= MAX_WAIT_NANOS, (sender, g) -> log.atWarn().addKeyValue("room", room)
          .addKeyValue("peer", peer).addKeyValue("sender", sender).addKeyValue("via", g.via)
          .log("a sender's fence did not come through its old road in time; its messages go on"));
      if (anyShut() && !watching) { // what opened may have shut another gate, and watched it
        watch();
      }
    });
  }

  /** Node {@code node} left the cluster: the gates whose fence was to come through it open. */
  void nodeLost(String node) {
    openWhere(g -> node.equals(g.via), (sender, g) -> { });
  }

  /**
   * No copy of any fence will come by {@code road} any more (the node it passes through left):
   * the gates that waited only for it open.
   */
  void roadLost(int road) {
    if (shut == null) {
      return;
    }
    // A gate that knows its copies (one came) now waits for the others only; one that knows
    // none yet learns them from the first copy, which will not count this road.
    shut.values().stream().filter(g -> g.expected != 0).forEach(g -> g.expected &= ~road);
    openWhere(g -> g.came != 0 && (g.came & g.expected) == g.expected, (sender, g) -> { });
  }

  /**
   * Opens the gates {@code which} picks, each told to {@code opened} first. They leave the map
   * before anything they held goes on: what goes on may open or shut gates here in turn.
   */
  private void openWhere(java.util.function.Predicate<Gate> which, BiConsumer<String, Gate> opened) {
    if (shut == null) {
      return;
    }
    Map<String, Gate> open = new java.util.LinkedHashMap<>();
    shut.forEach((sender, g) -> {
      if (which.test(g)) {
        open.put(sender, g);
      }
    });
    open.keySet().forEach(shut::remove);
    open.forEach(opened);
    open.values().forEach(this::release);
  }

  /** Opens every gate (the bound was reached): what they held goes on, each in order. */
  void openAll() {
    openWhere(g -> true, (sender, g) -> { });
  }
}
