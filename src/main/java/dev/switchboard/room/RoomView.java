package dev.switchboard.room;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One node's view of a room it holds members of: which node each member is on. Relays and
 * room-wide messages are routed with it, so they never touch Redis.
 *
 * <p>It is kept exact by two inputs. Membership events (join, leave, state), each stamped with the
 * room's Redis sequence number, arrive from the nodes of the room; one node's events arrive in
 * order, events of different nodes in any order. Snapshots arrive with the answer to a local
 * join: the whole room as Redis had it at sequence {@code S}. An event is applied, and handed to
 * the local members, only if it is newer than what the view knows of that peer, so a late event
 * from a peer's previous node cannot undo a newer one. Entries a snapshot learned of first are
 * marked, so that the event for the same change is still handed, once, to the local members
 * that did not see that snapshot; each newcomer drops the events its own snapshot covered.
 *
 * <p>Thread-safe: members of one room sit on several event loops.
 */
public final class RoomView {

  /** Tombstones kept per room, so late events for departed peers are recognised as stale. */
  static final int MAX_TOMBSTONES = 256;

  private record Entry(String node, long seq, boolean present, boolean fromSnapshot) {
  }

  private final Map<String, Entry> entries = new HashMap<>();
  private long baseSeq = -1;
  private int tombstones;
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

  /**
   * Applies a join, leave or state event. Returns true if it is new, so it must be handed to
   * the local members; false if the view already knows something newer.
   */
  public synchronized boolean apply(EventKind kind, String peer, String node, long seq) {
    Entry e = entries.get(peer);
    boolean newer = e == null ? seq > baseSeq : seq > e.seq || (seq == e.seq && e.fromSnapshot);
    if (!newer) {
      return false;
    }
    switch (kind) {
      case JOINED -> put(peer, new Entry(node, seq, true, false));
      case LEFT -> put(peer, new Entry(node, seq, false, false));
      case STATE -> {
        if (e == null || !e.present) {
          return false;
        }
        put(peer, new Entry(e.node, seq, true, false));
      }
      default -> throw new IllegalArgumentException(kind.name());
    }
    return true;
  }

  /** Merges the room as Redis had it at {@code seq}. */
  public synchronized void applySnapshot(long seq, List<Member> members) {
    if (baseSeq < 0) {
      baseSeq = seq;
    }
    Set<String> listed = new LinkedHashSet<>();
    for (Member m : members) {
      listed.add(m.peer());
      Entry e = entries.get(m.peer());
      if (e == null || m.seq() > e.seq) {
        put(m.peer(), new Entry(m.node(), m.seq(), true, true));
      }
    }
    for (Map.Entry<String, Entry> en : new ArrayList<>(entries.entrySet())) {
      Entry e = en.getValue();
      if (e.present && !listed.contains(en.getKey()) && e.seq < seq) {
        // Gone before the snapshot. Keep its seq, so that the leave event, if one is on its
        // way, is still newer and reaches the members that saw the peer join.
        // An entry a snapshot taught us keeps that mark: its join event may still be on its
        // way, and members that saw neither snapshot must get the join before the leave.
        put(en.getKey(), new Entry(e.node, e.seq, false, e.fromSnapshot));
      }
    }
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

  private void put(String peer, Entry next) {
    Entry prev = entries.put(peer, next);
    if (prev != null && !prev.present) {
      tombstones--;
    }
    if (!next.present) {
      tombstones++;
      if (tombstones > MAX_TOMBSTONES) {
        pruneTombstones();
      }
    }
    if (prev == null || prev.present != next.present || !prev.node.equals(next.node)) {
      recomputeNodes();
    }
  }

  private void pruneTombstones() {
    long cutoff = entries.values().stream().filter(e -> !e.present).mapToLong(Entry::seq)
        .sorted().skip(MAX_TOMBSTONES / 2).findFirst().orElse(Long.MIN_VALUE);
    // A late event for a pruned peer is applied again: a stale ghost only costs a NACK on a
    // relay, while refusing a live peer's late join would make it unreachable.
    entries.values().removeIf(e -> !e.present && e.seq < cutoff);
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
  public enum EventKind { JOINED, LEFT, STATE }
}
