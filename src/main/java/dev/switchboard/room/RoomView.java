package dev.switchboard.room;

import dev.switchboard.cluster.Envelope;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One node's view of a room it holds members of: which node each member is on. Relays and
 * room-wide messages are routed with it, so they never touch Redis.
 *
 * <p>Two inputs keep it exact. Membership events (join, leave, state), each stamped with the
 * room's Redis sequence number, arrive from the nodes of the room: one node's events in order,
 * different nodes' events in any order. Snapshots arrive with the answer to a local join: the
 * room as Redis had it at some sequence number; two local joins may apply theirs in either
 * order.
 *
 * <p>Each member's entry keeps two numbers. {@code seq} is the newest change the view knows of,
 * from an event or a snapshot, and decides routing: an input older than it does not move the
 * peer. {@code handed} is the newest event handed to the local members, and decides the
 * hand-off: an event is handed on once, and only if it is newer than the last one handed on
 * for that peer, so members see each peer's events in order and a late event from a peer's
 * previous node cannot undo a newer one. Snapshots never change {@code handed}: the members
 * that were here before a snapshot did not see it, and still get the events it covered; each
 * newcomer drops the events its own snapshot covered ({@code seq <= welcome seq}).
 *
 * <p>Thread-safe. {@link #apply(EventKind, String, String, long, Runnable)} runs the hand-off
 * under the view's lock, so two events about one peer, applied on two threads, reach the
 * members in the order the view applied them.
 */
public final class RoomView {

  /** Departed peers remembered per room, so late events for them are recognised as old. */
  static final int MAX_TOMBSTONES = 256;

  private static final class Entry {
    String node;
    boolean present;
    long seq;
    long handed = -1;

    Entry(String node, boolean present, long seq) {
      this.node = node;
      this.present = present;
      this.seq = seq;
    }
  }

  /** A peer's move from node {@code from} to {@code node} at {@code seq}, seen at {@code atNanos}. */
  public record Move(String from, String node, long seq, long atNanos) {
  }

  private final Map<String, Entry> entries = new HashMap<>();
  /** How long after a move its senders fence their first message to the moved peer ({@link MoveWindows}). */
  private final long fenceWindowNanos;
  /** The moves of the fence window, by peer; replaced, never changed. Lock-free: read on every relay. */
  private volatile Map<String, Move> moves = Map.of();
  /**
   * The newest snapshot applied. A peer a snapshot did not list was not in the room at that
   * point, so an event about an unknown peer at or below it cannot make the peer present.
   */
  private long coveredSeq = -1;
  private int tombstones;

  /** A room's view as nodes keep it: moves are remembered for {@link MoveWindows#STANDARD}'s fence window. */
  public RoomView() {
    this(MoveWindows.STANDARD.fenceWindowNanos());
  }

  /** A view that remembers each move for {@code fenceWindowNanos}. */
  RoomView(long fenceWindowNanos) {
    this.fenceWindowNanos = fenceWindowNanos;
  }
  private int holders;
  private volatile String[] nodes = new String[0];

  /** A member as a snapshot lists it: its node and the sequence number of its last change. */
  public record Member(String peer, String node, long seq) {
  }

  /** The node of a present member, or {@code null}. */
  public synchronized String nodeOf(String peer) {
    Entry e = entries.get(peer);
    return e != null && e.present ? e.node : null;
  }

  /** The distinct nodes holding present members. Lock-free: read on every room-wide message. */
  public String[] nodes() {
    return nodes;
  }

  /** The present members and their nodes, as a copy. */
  public synchronized Map<String, String> presentMembers() {
    Map<String, String> present = new HashMap<>();
    entries.forEach((peer, e) -> {
      if (e.present) {
        present.put(peer, e.node);
      }
    });
    return present;
  }

  /** {@link #apply(EventKind, String, String, long, Runnable)} without a hand-off action. */
  public boolean apply(EventKind kind, String peer, String node, long seq) {
    return apply(kind, peer, node, seq, null);
  }

  /**
   * Applies a join, leave or state event. Returns true, after running {@code handOn} under the
   * view's lock, if the event must be handed to the local members; false if it is not newer
   * than what they were already given. {@code node} is the peer's node for a join; a leave or a
   * state change may leave it null.
   */
  public synchronized boolean apply(EventKind kind, String peer, String node, long seq, Runnable handOn) {
    Entry e = entries.get(peer);
    if (e == null) {
      e = new Entry(node == null ? "" : node, false, coveredSeq);
      entries.put(peer, e);
      tombstones++;
    }
    if (seq > e.seq) {
      switch (kind) {
        case JOINED -> setRoute(e, node, true, seq);
        case LEFT -> setRoute(e, e.node, false, seq);
        case STATE -> e.seq = e.present ? seq : e.seq;
        default -> throw new IllegalArgumentException(kind.name());
      }
    }
    boolean newer = seq > e.handed && (kind != EventKind.STATE || e.present);
    if (newer) {
      e.handed = seq;
      if (handOn != null) {
        handOn.run();
      }
    }
    pruneIfNeeded();
    return newer;
  }

  /**
   * Applies a move of {@code peer} from {@code from} to {@code node} at {@code seq}: the peer is
   * routed to {@code node} from now on, and remembered as recently moved. Members are told
   * nothing. False if the view already knows something newer about the peer.
   */
  public synchronized boolean moved(String peer, String from, String node, long seq) {
    Entry e = entries.get(peer);
    if (e == null) {
      e = new Entry(node, false, coveredSeq);
      entries.put(peer, e);
      tombstones++;
    }
    if (seq <= e.seq) {
      Move known = moves.get(peer);
      if (seq == e.seq && node.equals(e.node) && (known == null || known.seq() < seq)) {
        recordMove(peer, from, node, seq); // a snapshot routed the peer there first, not knowing it moved
      }
      return false;
    }
    // The move first: a sender that sees the new route (nodes() is read without the lock) must
    // see the move too, or it would send there without its fence.
    recordMove(peer, from, node, seq);
    setRoute(e, node, true, seq);
    return true;
  }

  /** Remembers a move for the senders' fences ({@link #recentMoves}); under the view's lock. */
  private void recordMove(String peer, String from, String node, long seq) {
    long now = System.nanoTime();
    Map<String, Move> next = new HashMap<>(pruned(moves, now));
    next.put(peer, new Move(from, node, seq, now));
    moves = Map.copyOf(next);
  }

  /**
   * The peers that moved lately and where from: a sender fences its first message to each after
   * its move ({@link SenderFences}). Usually empty.
   */
  public Map<String, Move> recentMoves() {
    Map<String, Move> m = moves;
    if (!m.isEmpty()) {
      long now = System.nanoTime();
      if (m.values().stream().anyMatch(move -> now - move.atNanos() >= fenceWindowNanos)) {
        synchronized (this) {
          moves = pruned(moves, now);
          return moves;
        }
      }
    }
    return m;
  }

  /** The moves of {@code moves} still inside the fence window at {@code now}. */
  private Map<String, Move> pruned(Map<String, Move> moves, long now) {
    Map<String, Move> next = new HashMap<>();
    moves.forEach((p, m) -> {
      if (now - m.atNanos() < fenceWindowNanos) {
        next.put(p, m);
      }
    });
    return Map.copyOf(next);
  }

  /** Merges the room as Redis had it at {@code seq}. */
  public synchronized void applySnapshot(long seq, List<Member> members) {
    Set<String> listed = new HashSet<>();
    // An older snapshot than one already applied cannot bring back a peer the newer one left out.
    long unknownSeq = seq >= coveredSeq ? -1 : coveredSeq;
    for (Member m : members) {
      listed.add(m.peer());
      Entry e = entries.get(m.peer());
      if (e == null) {
        e = new Entry(m.node(), false, unknownSeq);
        entries.put(m.peer(), e);
        tombstones++;
      }
      if (m.seq() > e.seq) {
        if (e.present && !e.node.equals(m.node())) {
          recordMove(m.peer(), e.node, m.node(), m.seq()); // moved (or joined again there): senders fence
        }
        setRoute(e, m.node(), true, m.seq());
      }
    }
    for (Map.Entry<String, Entry> en : entries.entrySet()) {
      Entry e = en.getValue();
      if (e.present && e.seq < seq && !listed.contains(en.getKey())) {
        // Gone before the snapshot; its leave event, if one is on its way, is still handed on.
        setRoute(e, e.node, false, seq);
      }
    }
    coveredSeq = Math.max(coveredSeq, seq);
    pruneIfNeeded();
  }

  /**
   * Merges the members a store lists after it lost its data and nodes wrote their members back:
   * each listed member is added or moved if the listing is newer than what the view knows. A
   * member not listed is left alone: its node may not have written it back yet (and if that
   * node died, {@link Recovery} announces it as lost).
   */
  public synchronized void merge(List<Member> listed) {
    for (Member m : listed) {
      Entry e = entries.get(m.peer());
      if (e == null) {
        e = new Entry(m.node(), false, -1);
        entries.put(m.peer(), e);
        tombstones++;
      }
      if (m.seq() > e.seq) {
        setRoute(e, m.node(), true, m.seq());
      }
    }
    pruneIfNeeded();
  }

  /** The newest sequence number this view has seen, from events or snapshots. */
  public synchronized long maxSeq() {
    long max = coveredSeq;
    for (Entry e : entries.values()) {
      max = Math.max(max, Math.max(e.seq, e.handed));
    }
    return max;
  }

  /** A local peer starts joining: the view must live while it does. */
  synchronized void hold() {
    holders++;
  }

  /** A local peer is gone. Returns true when no local peer holds the view any more. */
  synchronized boolean release() {
    holders--;
    return holders <= 0;
  }

  synchronized boolean isHeld() {
    return holders > 0;
  }

  private void setRoute(Entry e, String node, boolean present, long seq) {
    boolean moved = e.present != present || !e.node.equals(node);
    if (e.present != present) {
      tombstones += present ? -1 : 1;
    }
    e.node = node;
    e.present = present;
    e.seq = seq;
    if (moved) {
      recomputeNodes();
    }
  }

  /**
   * Forgets the oldest half of the departed peers once there are too many. A late event for a
   * forgotten peer is taken as new: a ghost entry costs a NACK on a relay, while refusing a
   * live peer's late join would make it unreachable.
   */
  private void pruneIfNeeded() {
    if (tombstones <= MAX_TOMBSTONES) {
      return;
    }
    long cutoff = entries.values().stream().filter(e -> !e.present).mapToLong(e -> Math.max(e.seq, e.handed))
        .sorted().skip(MAX_TOMBSTONES / 2).findFirst().orElse(Long.MIN_VALUE);
    entries.values().removeIf(e -> !e.present && Math.max(e.seq, e.handed) < cutoff);
    tombstones = (int) entries.values().stream().filter(e -> !e.present).count();
  }

  private void recomputeNodes() {
    Set<String> set = new LinkedHashSet<>();
    for (Entry e : entries.values()) {
      if (e.present) {
        set.add(e.node);
      }
    }
    nodes = set.toArray(new String[0]);
  }

  /** The membership events a view applies. */
  public enum EventKind {
    JOINED, LEFT, STATE;

    static EventKind of(Envelope.Membership m) {
      if (m instanceof Envelope.PeerJoined) {
        return JOINED;
      }
      return m instanceof Envelope.PeerLeft ? LEFT : STATE;
    }
  }
}
